// The customer page shares a screen or window without the Lifeline client (view only):
// getDisplayMedia, VP8 encoded in the page with WebCodecs, sent as SCREEN frames
// (frames.js) under the stream the appliance gave in answer to `screen_share`.
"use strict";

const BrowserShare = (() => {
  const BITRATE = 1_000_000; // bits a second
  const MAX_FPS = 15;
  const KEY_EVERY_MS = 5000; // a key frame at least this often: a new viewer never waits long
  const MAX_BUFFERED = 2 * 1024 * 1024; // bytes the socket may hold back before pictures are skipped
  const MAX_SIZE = 3840; // the widest or tallest picture sent (larger is cut to it)

  function supported() {
    return Boolean(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia) && typeof VideoEncoder !== "undefined";
  }

  // One share, from the customer's click (getDisplayMedia needs it) to stop(). `onEnded`
  // is called once when it ends by itself (the browser's own "Stop sharing", or an error).
  class Share {
    constructor(socket, onEnded) {
      this.socket = socket;
      this.onEnded = onEnded;
      this.stream = 0; // the appliance's number for it; 0 until the ack
      this.sequence = 0;
      this.started = 0;
      this.lastKey = 0;
      this.lastSeen = 0; // when the last picture came from the track
      this.credit = 1; // pictures that may be sent now: MAX_FPS a second, at most one saved up
      this.wantKey = true;
      this.size = null; // [width, height] the encoder is set for
      this.encoder = null;
      this.track = null;
      this.stopped = false;
      this.announcing = null; // the screen_share on its way
    }

    async start() {
      const media = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: MAX_FPS }, audio: false });
      this.track = media.getVideoTracks()[0];
      this.track.addEventListener("ended", () => this.end());
      this.started = performance.now();
      this.encoder = new VideoEncoder({
        output: (chunk) => this.sendChunk(chunk),
        error: (error) => this.end(error),
      });
      this.pump().catch((error) => this.end(error));
    }

    // Pictures as the track makes them; a <video> and a canvas where the browser has no
    // MediaStreamTrackProcessor.
    async pump() {
      if (typeof MediaStreamTrackProcessor !== "undefined") {
        const reader = new MediaStreamTrackProcessor({ track: this.track }).readable.getReader();
        this.reader = reader;
        while (!this.stopped) {
          const { value: picture, done } = await reader.read();
          if (done) break;
          await this.encode(picture);
        }
        return;
      }
      const video = document.createElement("video");
      video.muted = true;
      video.srcObject = new MediaStream([this.track]);
      await video.play();
      const canvas = document.createElement("canvas");
      this.timer = setInterval(() => {
        if (this.stopped || !video.videoWidth) return;
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        canvas.getContext("2d").drawImage(video, 0, 0);
        this.encode(new VideoFrame(canvas, { timestamp: Math.round((performance.now() - this.started) * 1000) }))
          .catch((error) => this.end(error));
      }, 1000 / MAX_FPS);
    }

    async encode(picture) {
      try {
        const now = performance.now();
        // At most MAX_FPS a second however fast the capture; every picture of a slower one.
        this.credit = Math.min(1, this.credit + ((now - this.lastSeen) * MAX_FPS) / 1000);
        this.lastSeen = now;
        if (this.stopped || this.credit < 0.8) return; // a capture at MAX_FPS comes a little early at times
        const size = fitted(picture.displayWidth, picture.displayHeight);
        if (!this.size || size[0] !== this.size[0] || size[1] !== this.size[1]) await this.announce(size);
        if (!this.stream || this.stopped || this.encoder.state !== "configured") return;
        // A socket that cannot keep up: skip pictures, and start again with a key frame.
        if (this.socket.socket.bufferedAmount > MAX_BUFFERED || this.encoder.encodeQueueSize > 2) {
          this.wantKey = true;
          return;
        }
        const keyFrame = this.wantKey || now - this.lastKey >= KEY_EVERY_MS;
        if (keyFrame) {
          this.wantKey = false;
          this.lastKey = now;
        }
        this.credit -= 1;
        if (size[0] === picture.displayWidth && size[1] === picture.displayHeight) {
          this.encoder.encode(picture, { keyFrame });
        } else { // odd or oversized: the encoder gets the even part it was set up for
          const cut = new VideoFrame(picture, { visibleRect: { x: 0, y: 0, width: size[0], height: size[1] } });
          try { this.encoder.encode(cut, { keyFrame }); } finally { cut.close(); }
        }
      } finally {
        picture.close();
      }
    }

    // The appliance learns the picture's size (again when it changes) and names the stream.
    async announce([width, height]) {
      this.size = [width, height];
      this.encoder.configure({
        codec: "vp8", width, height, bitrate: BITRATE, framerate: MAX_FPS, latencyMode: "realtime",
      });
      const answer = await this.socket.request("screen_share", { codec: "vp8", width, height });
      if (this.stream !== answer.result.stream) this.sequence = 0;
      this.stream = answer.result.stream;
      this.wantKey = true;
    }

    sendChunk(chunk) {
      if (this.stopped || !this.stream || !this.socket.ready) {
        this.wantKey = true; // whatever follows needs this picture: start again at a key frame
        return;
      }
      const payload = new Uint8Array(chunk.byteLength);
      chunk.copyTo(payload);
      this.sequence = (this.sequence + 1) >>> 0;
      this.socket.socket.send(LifelineFrames.build({
        kind: LifelineFrames.KIND.SCREEN, stream: this.stream, sequence: this.sequence,
        timestamp: Math.round(performance.now() - this.started), key: chunk.type === "key",
      }, payload));
    }

    // The appliance asks for a key frame (a viewer starts, or fell behind).
    keyFrame(stream) {
      if (stream === this.stream) this.wantKey = true;
    }

    // After the socket came back: the share is announced again (a new stream, maybe).
    resumed() {
      if (!this.stopped && this.size) this.announce(this.size).catch((error) => this.end(error));
    }

    stop() {
      if (this.stopped) return;
      this.stopped = true;
      clearInterval(this.timer);
      if (this.reader) this.reader.cancel().catch(() => {});
      if (this.track) this.track.stop();
      if (this.encoder && this.encoder.state !== "closed") this.encoder.close();
      if (this.stream) this.socket.request("screen_unshare").catch(() => {});
    }

    end(error) {
      if (this.stopped) return;
      this.stop();
      this.onEnded(error);
    }
  }

  // Even sizes within MAX_SIZE (4:2:0 pictures are cut on even pixels).
  function fitted(width, height) {
    const even = (n) => Math.max(2, Math.floor(Math.min(n, MAX_SIZE) / 2) * 2);
    return [even(width), even(height)];
  }

  return { Share, supported };
})();
