// A shared screen's pictures: SCREEN frames (frames.js) decoded with WebCodecs onto a
// canvas. The console's Screen pane (screen.js) and the attendee's page (attendee.js) each
// keep one. A picture needs the ones before it back to a key frame: after a gap, a picture
// that would not decode, or a decoder falling behind, it waits for the next key frame and
// calls `onNeedKey` (which asks the sender for one).
"use strict";

const ScreenDecoder = (() => {
  const BEHIND = 30; // frames waiting in the decoder: past this, skip to the next key frame

  class ScreenDecoder {
    constructor({ canvas, onNeedKey, onDrawn = () => {} }) {
      Object.assign(this, { canvas, onNeedKey, onDrawn });
      this.decoder = null;
      this.needKey = true;
      this.lastSequence = null;
      this.frames = 0; // pictures drawn (tests read it from the canvas's data-frames)
    }

    static supported() {
      return typeof VideoDecoder !== "undefined";
    }

    // One frame of the share shown (a parsed header); `codec` is the share's.
    decode(header, codec) {
      const follows = this.lastSequence !== null && ((header.sequence - this.lastSequence) >>> 0) === 1;
      this.lastSequence = header.sequence;
      if (!header.key && (this.needKey || !follows)) {
        if (!this.needKey) this.onNeedKey(); // a gap (the appliance skips to key frames itself)
        this.needKey = true;
        return;
      }
      if (!this.decoder || this.decoder.state === "closed") {
        this.decoder = new VideoDecoder({ output: (picture) => this.draw(picture), error: () => this.failed() });
        this.decoder.configure({ codec: codec || "vp8", optimizeForLatency: true });
      }
      if (this.decoder.decodeQueueSize > BEHIND) { // this computer decodes too slowly: skip ahead
        this.failed();
        return;
      }
      this.needKey = false;
      try {
        this.decoder.decode(new EncodedVideoChunk({
          type: header.key ? "key" : "delta", timestamp: header.timestamp * 1000, data: header.payload,
        }));
      } catch (error) {
        this.failed();
      }
    }

    // Another picture (or none): nothing of the old one is decoded on.
    reset() {
      if (this.decoder && this.decoder.state !== "closed") this.decoder.close();
      this.decoder = null;
      this.needKey = true;
      this.lastSequence = null;
    }

    // A picture that would not decode: start again at a key frame.
    failed() {
      this.reset();
      this.onNeedKey();
    }

    draw(picture) {
      try {
        const { canvas } = this;
        if (canvas.width !== picture.displayWidth || canvas.height !== picture.displayHeight) {
          canvas.width = picture.displayWidth;
          canvas.height = picture.displayHeight;
        }
        canvas.getContext("2d").drawImage(picture, 0, 0);
        this.frames += 1;
        canvas.dataset.frames = String(this.frames);
        this.onDrawn();
      } finally {
        picture.close();
      }
    }
  }

  return ScreenDecoder;
})();
