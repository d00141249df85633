"""Group-chat robots against a local receiver that checks each vendor's format and signature, and the pacing that
keeps to 20 messages a minute."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chatbots import MAX_BYTES, Pacer, Robot, RobotError, check_robot, send, split
from tests.robot_receiver import RobotReceiver

SECRETS = {"dingtalk": "SECd3f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4",
           "feishu": "fs-secret-0123"}


class FakeTime:
    """One clock for the sender's pacing and the receiver's per-minute count; sleeping moves it on."""

    def __init__(self, start: float = 1_796_000_000.0):
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0)


@pytest.fixture
def receiver():
    fake = FakeTime()
    found = RobotReceiver(SECRETS, clock=fake)
    found.fake = fake
    yield found
    found.close()


def _robot(receiver, kind, secret=None):
    return Robot(kind, f"{receiver.base}/{kind}" + ("?access_token=abc" if kind == "dingtalk" else ""),
                 SECRETS.get(kind, "") if secret is None else secret)


@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_each_vendor_gets_its_format_signed(receiver, kind):
    fake = receiver.fake
    delivered, outcome = send(_robot(receiver, kind), "一厂 · 6S 巡检提醒", "**明天开始（1）**\n- 一号车间：窗口 12-07",
                              pacer=Pacer(sleep=fake.sleep, now=fake), sleep=fake.sleep, clock=fake)
    assert delivered, (outcome, receiver.refused)
    [text] = receiver.texts(kind)
    assert "一厂 · 6S 巡检提醒" in text and "一号车间" in text


@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_a_wrong_secret_is_refused_and_not_retried(receiver, kind):
    fake = receiver.fake
    delivered, outcome = send(_robot(receiver, kind, secret="not-the-secret"), "t", "x",
                              pacer=Pacer(sleep=fake.sleep, now=fake), sleep=fake.sleep, clock=fake)
    assert not delivered and "refused" in outcome
    assert receiver.refused == [(kind, "sign")] and fake.slept == []


def test_a_long_digest_goes_in_parts_under_the_size_limit(receiver):
    fake = receiver.fake
    lines = "\n".join(f"- 车间{n:03d}：地面有油污，通道堆放物料，责任人 张三 · 逾期 {n} 天" for n in range(300))
    delivered, outcome = send(_robot(receiver, "wecom"), "一厂", lines, pacer=Pacer(sleep=fake.sleep, now=fake),
                              sleep=fake.sleep, clock=fake)
    texts = receiver.texts("wecom")
    assert delivered and len(texts) > 1 and outcome == f"{len(texts)} message(s)"
    assert all(len(t.encode()) <= 4096 for t in texts)
    assert "（1/" in texts[0]
    assert sum(t.count("- 车间") for t in texts) == 300


def test_forty_five_messages_keep_to_twenty_a_minute(receiver):
    fake = receiver.fake
    pacer = Pacer(sleep=fake.sleep, now=fake)
    for n in range(45):
        delivered, outcome = send(_robot(receiver, "dingtalk"), f"m{n}", "x", pacer=pacer, sleep=fake.sleep,
                                  clock=fake)
        assert delivered, outcome
    assert len(receiver.accepted) == 45 and receiver.refused == []
    assert len(fake.slept) == 2  # before the 21st and the 41st


def test_too_fast_waits_a_minute_and_a_server_error_is_retried(receiver):
    fake = receiver.fake
    for _ in range(20):  # someone else's messages used this minute up
        receiver._too_fast("feishu")
    receiver.fail_next["feishu"] = 1
    delivered, outcome = send(_robot(receiver, "feishu"), "t", "x", pacer=Pacer(sleep=fake.sleep, now=fake),
                              sleep=fake.sleep, clock=fake, attempts=3)
    assert delivered, outcome
    assert fake.slept[0] == 2.0 and 60.0 in fake.slept  # backoff after the 500, a minute after "too fast"
    assert ("feishu", "too fast") in receiver.refused


@pytest.mark.parametrize(("kind", "url", "secret", "field"), [
    ("slack", "https://x", "", "kind"), ("wecom", "ftp://x", "", "url"), ("wecom", "https://x y", "", "url"),
    ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "s", "secret"),
])
def test_robots_we_cannot_post_to_are_refused_naming_the_field(kind, url, secret, field):
    with pytest.raises(RobotError) as refused:
        check_robot(kind, url, secret)
    assert refused.value.field == field


@given(st.text(alphabet=st.sampled_from(["a", "车", "\n", "-", " ", "🙂"]), max_size=3000),
       st.integers(min_value=8, max_value=400))
@example("前言\n" + "车" * 50 + "🙂a" * 30 + "\n尾", 10)  # a line longer than a part, after a short one: cut by bytes
def test_split_keeps_every_character_and_every_part_fits(text, limit):
    parts = split(text, limit)
    assert all(len(part.encode()) <= limit for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")


def test_size_limits_are_under_the_vendors():
    assert MAX_BYTES["wecom"] < 4096


def test_peoples_words_cannot_make_markup_in_a_robot_message():
    """#35: a red-tag text or a name with markdown in it is shown as plain text (full-width look-alikes), so a
    supervisor cannot post a clickable link, a heading or a <font> tag as the system."""
    from chatbots import plain_in_markdown

    said = plain_in_markdown("[点这里](http://evil.example) **紧急** <font color=red>x</font> #标题\n> 引用")
    assert "[" not in said and "](" not in said and "**" not in said and "<font" not in said and "\n" not in said
    assert said.startswith("［点这里］（http://evil.example）")
    assert plain_in_markdown("普通的文字 12-07") == "普通的文字 12-07"  # ordinary words untouched
