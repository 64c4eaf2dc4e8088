"""The customer's desktop for bench/screen.py: a Tk window over the whole X display, driven
by lines on its stdin, one scene at a time.

    python -m bench.screen_scene

- `flip`: the big block (BLOCK, on a 1280x800 display; `place` scales it) turns from red to blue or back; once it is redrawn the
  program prints `flipped COLOUR TIME` (TIME: this machine's wall clock, time.time());
- `still`: nothing moves; `count`: a counter changes 30 times a second; `scroll`: lines of
  text scroll up 20 times a second over most of the screen; `video`: a moving gradient with
  a noisy patch in a 640x360 area (VIDEO), 30 pictures a second, as a playing video;
- `ticks`: prints `ticks N`, the pictures it has drawn so far (animate's count);
- `quit`.

It prints `ready` once its window is shown. A helper of bench/screen.py, not a bench.
"""

from __future__ import annotations

import os
import time
import tkinter

# Where things are on a 1280x800 display (x, y, width, height); a smaller one scales them.
BLOCK = (100, 100, 400, 300)
RED, BLUE = "#e02020", "#2020e0"
VIDEO = (600, 420, 640, 360)
COUNTER = (700, 150, 200, 100)
TEXT = (560, 60, 700, 700)
FRAME_MS = 33  # ~30 pictures a second
PICTURES = 30  # video pictures made beforehand, played in a loop
NOISE = (160, 90)  # the noisy patch inside the video


def place(area: tuple[int, int, int, int], width: int, height: int) -> tuple[int, int, int, int]:
    """An area of the 1280x800 layout on a display of width x height (scaled down, never up)."""
    scale = min(1.0, width / 1280, height / 800)
    x, y, w, h = area
    return int(x * scale), int(y * scale), max(2, int(w * scale)), max(2, int(h * scale))


def video_picture(phase: int, width: int, height: int) -> bytes:
    """A binary PPM: a diagonal colour gradient moved by `phase`, a block of noise inside."""
    row = bytearray()
    for x in range(width * 2):
        row += bytes(((x * 3) % 256, (x * 5 + 80) % 256, (255 - x * 2) % 256))
    lines = []
    noise_w, noise_h = min(NOISE[0], width // 2), min(NOISE[1], height // 2)
    left = (phase * 16) % (width - noise_w)
    for y in range(height):
        start = ((y + phase * 12) % width) * 3
        line = bytearray(row[start : start + width * 3])
        if height // 4 <= y < height // 4 + noise_h:
            line[left * 3 : (left + noise_w) * 3] = os.urandom(noise_w * 3)
        lines.append(bytes(line))
    return f"P6 {width} {height} 255\n".encode() + b"".join(lines)


def main() -> None:
    root = tkinter.Tk()
    width, height = root.winfo_screenwidth(), root.winfo_screenheight()
    root.overrideredirect(True)  # no window manager on Xvfb: place it exactly
    root.geometry(f"{width}x{height}+0+0")
    canvas = tkinter.Canvas(root, width=width, height=height, highlightthickness=0, background="#ffffff")
    canvas.place(x=0, y=0)
    x, y, w, h = place(BLOCK, width, height)
    block = canvas.create_rectangle(x, y, x + w, y + h, fill=RED, outline=RED)
    cx, cy, cw, ch = place(COUNTER, width, height)
    counter = canvas.create_text(cx + cw // 2, cy + ch // 2, text="0", font=("TkFixedFont", -ch // 2), fill="#000000")
    vx, vy, vw, vh = place(VIDEO, width, height)
    pictures = [tkinter.PhotoImage(data=video_picture(n, vw, vh), format="PPM") for n in range(PICTURES)]
    video = canvas.create_image(vx, vy, anchor="nw", state="hidden", image=pictures[0])
    text = tkinter.Text(root, font=("TkFixedFont", 12), borderwidth=0)
    scene, tick, red = "still", 0, True

    def animate() -> None:
        nonlocal tick
        tick += 1
        if scene == "count":
            canvas.itemconfigure(counter, text=str(tick))
        elif scene == "video":
            canvas.itemconfigure(video, image=pictures[tick % PICTURES])
        elif scene == "scroll" and tick % 2 == 0:
            text.insert("end", f"{tick:08d} the quick brown fox jumps over the lazy dog {'=' * (tick % 40)}\n")
            text.see("end")
        root.after(FRAME_MS, animate)

    def command(line: str) -> None:
        nonlocal scene, red
        if line == "flip":
            red = not red
            colour = RED if red else BLUE
            canvas.itemconfigure(block, fill=colour, outline=colour)
            root.update_idletasks()
            root.update()
            print(f"flipped {'red' if red else 'blue'} {time.time():.6f}", flush=True)
        elif line in ("still", "count", "scroll", "video"):
            scene = line
            canvas.itemconfigure(video, state="normal" if line == "video" else "hidden")
            if line == "scroll":
                tx, ty, tw, th = place(TEXT, width, height)
                text.place(x=tx, y=ty, width=tw, height=th)
            else:
                text.place_forget()
        elif line == "ticks":
            print(f"ticks {tick}", flush=True)
        elif line == "quit":
            root.destroy()

    # Commands arrive on stdin, read inside Tk's own loop (no thread touches Tk).
    buffered = bytearray()

    def readable(_file: object, _mask: int) -> None:
        chunk = os.read(0, 4096)
        if not chunk:
            root.tk.deletefilehandler(0)
            root.destroy()
            return
        buffered.extend(chunk)
        while b"\n" in buffered:
            line, _, rest = bytes(buffered).partition(b"\n")
            buffered[:] = rest
            command(line.decode().strip())
            if line.strip() == b"quit":
                return

    root.tk.createfilehandler(0, tkinter.READABLE, readable)
    root.after(FRAME_MS, animate)
    root.after(200, lambda: print("ready", flush=True))
    root.mainloop()


if __name__ == "__main__":
    main()
