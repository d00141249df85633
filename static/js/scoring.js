// The score on the device, by the server's rules (inspections/scoring.py: running_score and score_inspection), for a
// form filled in where the server cannot be asked: the same sums in the same order, so device and server agree to
// the last digit (tests/browser/test_device_scoring.py holds this file to the Python on generated sheets of every
// scheme). The server recomputes the score when the answers arrive; it is the authority.
//
// categories: [{key, name, weight, full_marks, items: [{key, weight, critical, deduct}]}]
// answers: {item key: a number, or "na"}; scheme: the version's scheme as stored (checklists/schemes.py to_dict).
(function (root) {
  "use strict";
  var NA = "na";

  function fullOf(scheme) {
    var kind = scheme.type || "levels";
    var values;
    if (kind === "pass_fail") values = [1, 0];
    else if (kind === "levels") {
      var levels = scheme.levels;
      values = Array.isArray(levels) ? levels.map(function (l) { return l.points; })
                                     : Object.keys(levels).map(function (k) { return parseInt(k, 10); });
    } else values = null;
    var grades = (scheme.grades || []).map(function (g) { return [Number(g.min), String(g.label)]; });
    grades.sort(function (a, b) { return b[0] - a[0]; });
    return {
      kind: kind, values: values, grades: grades,
      passMark: scheme.pass_mark === undefined ? 60 : Number(scheme.pass_mark),
      overall: scheme.overall || "mean",
      maxLevel: values ? Math.max.apply(null, values) : null,
      worst: values ? Math.min.apply(null, values) : null,
      categoryPoints: scheme.category_points === undefined ? 20 : Number(scheme.category_points),
      pointsPerFinding: scheme.points_per_finding === undefined ? 2 : Number(scheme.points_per_finding)
    };
  }
  function failsCritical(rules, value) {
    return rules.kind === "deduction" ? value > 0 : value === rules.worst;
  }
  function points(rules, value) {  // [points, maximum] of one answer of weight 1
    return rules.kind === "pass_fail" ? [value, 1] : [value, rules.maxLevel];
  }
  function gradeFor(rules, percent) {
    if (percent === null) return null;
    for (var i = 0; i < rules.grades.length; i++) if (percent >= rules.grades[i][0]) return rules.grades[i][1];
    return rules.grades[rules.grades.length - 1][1];
  }
  function weightOf(thing) { return thing.weight === undefined || thing.weight === null ? 1 : Number(thing.weight); }

  function categoryScore(category, answers, rules) {
    var applicable = category.items.filter(function (item) { return answers[item.key] !== NA; });
    if (!applicable.length) return { key: category.key, points: 0, max_points: 0, percent: null };
    if (rules.kind === "deduction") {
      var full = category.full_marks === undefined || category.full_marks === null ? rules.categoryPoints
                                                                                      : Number(category.full_marks);
      var deducted = 0;
      applicable.forEach(function (item) {
        var each = item.deduct === undefined || item.deduct === null ? rules.pointsPerFinding * weightOf(item)
                                                                     : Number(item.deduct);
        deducted += answers[item.key] * each;
      });
      var kept = full - Math.min(full, deducted);
      return { key: category.key, points: kept, max_points: full, percent: 100 * kept / full };
    }
    var got = 0, maximum = 0;
    applicable.forEach(function (item) {
      var pair = points(rules, answers[item.key]);
      got += pair[0] * weightOf(item);
      maximum += pair[1] * weightOf(item);
    });
    return { key: category.key, points: got, max_points: maximum, percent: maximum > 0 ? 100 * got / maximum : null };
  }

  // every item answered: the inspection's score (as score_inspection)
  function score(categories, answers, scheme) {
    var rules = fullOf(scheme), failed = [];
    categories.forEach(function (category) {
      category.items.forEach(function (item) {
        var value = answers[item.key];
        if (value === undefined) throw new Error("unanswered item: " + item.key);
        if (value !== NA && item.critical && failsCritical(rules, value)) failed.push(item.key);
      });
    });
    var scores = categories.map(function (category) { return categoryScore(category, answers, rules); });
    var sum = 0, totalWeight = 0;
    scores.forEach(function (s, i) {
      var weight = weightOf(categories[i]);
      if (s.percent !== null && weight > 0) { sum += s.percent * weight; totalWeight += weight; }
    });
    var overall = totalWeight > 0 ? sum / totalWeight : null;
    var got = 0, maximum = 0;
    scores.forEach(function (s) { if (s.percent !== null) { got += s.points; maximum += s.max_points; } });
    if (rules.overall === "sum") overall = maximum > 0 ? 100 * got / maximum : null;
    var reasons = [];
    if (overall !== null) {
      if (failed.length) reasons.push({ code: "critical_failed", items: failed.slice() });
      if (overall < rules.passMark) reasons.push({ code: "below_pass_mark", pass_mark: rules.passMark });
    }
    return {
      categories: scores, overall_percent: overall, points: got, max_points: maximum,
      grade: gradeFor(rules, overall), passed: overall === null ? null : !reasons.length,
      failed_critical: failed, fail_reasons: reasons
    };
  }

  // the score so far, counting only the items answered yet (null before the first answer), as running_score
  function running(categories, answers, scheme) {
    var answered = categories.map(function (c) {
      return { key: c.key, name: c.name, weight: c.weight, full_marks: c.full_marks,
               items: c.items.filter(function (item) { return Object.prototype.hasOwnProperty.call(answers, item.key); }) };
    });
    if (!answered.some(function (c) { return c.items.length; })) return null;
    return score(answered, answers, scheme);
  }

  // a percent to one decimal (oneDecimal) or none (whole) as the server prints it: Python's format rounds an exact
  // tie to even, toFixed rounds it up. x·10 ends in exactly 5 only for an odd number of quarters, x in exactly .5
  // only for an odd number of halves (both products are exact).
  function rounded(x, digits) {
    var scale = digits ? 10 : 1, parts = x * (digits ? 4 : 2);
    if (Number.isInteger(parts) && Math.abs(parts) % 2 === 1) {
      var down = Math.floor(x * scale);
      return ((down % 2 === 0 ? down : down + 1) / scale).toFixed(digits);
    }
    return x.toFixed(digits);
  }
  function oneDecimal(x) { return rounded(x, 1); }
  function whole(x) { return rounded(x, 0); }

  root.Sixs = root.Sixs || {};
  root.Sixs.scoring = { score: score, running: running, oneDecimal: oneDecimal,
                         whole: whole };
})(window);
