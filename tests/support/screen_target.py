"""A small Tk program for screen sharing's tests: a block of a known colour at a known place,
a counter that changes (pass --count), and a text field whose content is written to a file
on every change and on Enter. Other input (right clicks, the wheel, F5, Ctrl-Alt-Delete,
Ctrl-A) is appended to OUT_FILE.events, a line each: "right", "wheel up", "wheel down",
"F5", "ctrl-alt-delete", "ctrl-a".

    python -m tests.support.screen_target OUT_FILE [--count] [--colour #RRGGBB]

It prints "ready" once its window is shown. The block fills BLOCK (x, y, width, height) of
the screen, the field sits at FIELD's centre; the window covers the whole screen."""

from __future__ import annotations

import argparse
import sys
import tkinter
from pathlib import Path

BLOCK = (100, 100, 400, 300)  # the coloured block: x, y, width, height in screen pixels
COLOUR = "#e02020"
FIELD = (800, 150)  # the text field's centre
COUNTER = (800, 500)  # the counter's centre


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", action="store_true", help="change the counter 30 times a second")
    parser.add_argument("--colour", default=COLOUR)
    args = parser.parse_args()

    root = tkinter.Tk()
    width, height = root.winfo_screenwidth(), root.winfo_screenheight()
    root.overrideredirect(True)  # no window manager on Xvfb: place it exactly
    root.geometry(f"{width}x{height}+0+0")
    canvas = tkinter.Canvas(root, width=width, height=height, highlightthickness=0, background="#ffffff")
    canvas.place(x=0, y=0)
    x, y, w, h = BLOCK
    canvas.create_rectangle(x, y, x + w, y + h, fill=args.colour, outline=args.colour)
    counter = canvas.create_text(*COUNTER, text="0", font=("TkFixedFont", 48), fill="#000000")
    text = tkinter.StringVar(root)
    field = tkinter.Entry(root, textvariable=text, width=20, font=("TkFixedFont", 16))
    field.place(x=FIELD[0], y=FIELD[1], anchor="center")

    def save(*_: object) -> None:
        args.out.write_text(text.get(), encoding="utf-8")

    text.trace_add("write", save)
    field.bind("<Return>", save)
    events = args.out.with_name(args.out.name + ".events")

    def seen(what: str) -> None:
        with events.open("a", encoding="utf-8") as log:
            log.write(what + "\n")

    for sequence, what in (
        ("<Button-3>", "right"),
        ("<Button-4>", "wheel up"),
        ("<Button-5>", "wheel down"),
        ("<F5>", "F5"),
        ("<Control-Alt-Delete>", "ctrl-alt-delete"),
        ("<Control-a>", "ctrl-a"),
    ):
        root.bind_all(sequence, lambda _event, what=what: seen(what))
    count = 0

    def tick() -> None:
        nonlocal count
        count += 1
        canvas.itemconfigure(counter, text=str(count))
        root.after(33, tick)

    if args.count:
        root.after(33, tick)

    def ready() -> None:
        print("ready", flush=True)

    root.after(200, ready)
    root.mainloop()


if __name__ == "__main__":
    sys.exit(main())
