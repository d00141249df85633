"""The app's icons for the home screen, drawn from the same design as static/favicon.svg (a blue tile, "6S" in
white). Run once after changing the design, then commit the files:

    .venv/bin/python -m assets.icons

Written with Pillow (the photos already need it) rather than an SVG rasteriser: three PNGs do not justify a
Cairo binding. A maskable icon is cut by the launcher to any shape inside its central 80 % circle, so its tile
fills the square and "6S" stays within that circle.
"""

from __future__ import annotations

import subprocess  # fixed argument list  # noqa: S404  # nosec B404
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BLUE = (29, 78, 216, 255)  # #1d4ed8, the favicon's and the manifest's theme colour
WHITE = (255, 255, 255, 255)
ICON_DIR = Path(__file__).resolve().parents[1] / "static" / "icons"
# (file, side in pixels, maskable)
ICONS = (("icon-192.png", 192, False), ("icon-512.png", 512, False), ("maskable-512.png", 512, True),
         ("apple-touch-icon.png", 180, True))  # iOS rounds the corners itself: a full tile, like a maskable one


def bold_font_file() -> str:
    found = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans:bold"],  # noqa: S607  # nosec B603 B607
                           capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    if not found:
        raise SystemExit("no bold sans-serif font: apt-get install fonts-dejavu-core")
    return found


def draw_icon(side: int, maskable: bool, font_file: str):
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    if maskable:
        draw.rectangle((0, 0, side, side), fill=BLUE)
        text_size = round(side * 0.36)  # inside the safe circle (80 % of the side)
    else:
        draw.rounded_rectangle((0, 0, side - 1, side - 1), radius=round(side * 12 / 64), fill=BLUE)
        text_size = round(side * 30 / 64)  # as the favicon: 30 on 64
    font = ImageFont.truetype(font_file, text_size)
    draw.text((side / 2, side / 2), "6S", font=font, fill=WHITE, anchor="mm")
    return image


def main() -> None:
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    font_file = bold_font_file()
    for name, side, maskable in ICONS:
        draw_icon(side, maskable, font_file).save(ICON_DIR / name, optimize=True)
        print(ICON_DIR / name)


if __name__ == "__main__":
    main()
