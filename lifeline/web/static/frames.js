// Binary frames (docs/realtime.md "Binary frames", lifeline_protocol/binary.py): a 16-byte
// big-endian header, then the payload. Read by the console (shell output, screens) and
// written by the customer page (its browser screen share).
"use strict";

const LifelineFrames = (() => {
  const HEADER_SIZE = 16;
  const VERSION = 1;
  const KIND = { SCREEN: 1, FILE_CHUNK: 2, SHELL: 3 };
  const KEY = 0x01;
  const LAST = 0x02;

  // The frame's header and payload (a view, not a copy), or null for bytes that are not one.
  function parse(buffer) {
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < HEADER_SIZE) return null;
    const header = new DataView(buffer, 0, HEADER_SIZE);
    if (header.getUint8(0) !== VERSION) return null;
    const flags = header.getUint8(2);
    return {
      kind: header.getUint8(1),
      key: Boolean(flags & KEY),
      last: Boolean(flags & LAST),
      stream: header.getUint32(4),
      sequence: header.getUint32(8),
      timestamp: header.getUint32(12),
      payload: new Uint8Array(buffer, HEADER_SIZE),
    };
  }

  // The frame as it goes on the wire; numbers wrap at 2**32 as the protocol says.
  function build({ kind, stream, sequence, timestamp = 0, key = false, last = false }, payload) {
    const frame = new Uint8Array(HEADER_SIZE + payload.byteLength);
    const header = new DataView(frame.buffer, 0, HEADER_SIZE);
    header.setUint8(0, VERSION);
    header.setUint8(1, kind);
    header.setUint8(2, (key ? KEY : 0) | (last ? LAST : 0));
    header.setUint8(3, 0);
    header.setUint32(4, stream >>> 0);
    header.setUint32(8, sequence >>> 0);
    header.setUint32(12, timestamp >>> 0);
    frame.set(payload, HEADER_SIZE);
    return frame.buffer;
  }

  return { parse, build, HEADER_SIZE, KIND };
})();
