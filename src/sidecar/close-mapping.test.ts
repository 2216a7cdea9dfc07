import { test } from "node:test";
import assert from "node:assert/strict";
import { closeReason, streamErrorForClosure } from "./close-mapping.js";

test("1000, 1001 and a close frame without a code are clean ends", () => {
  for (const code of [1000, 1001, 1005]) assert.equal(streamErrorForClosure({ code, reason: "" }, 10), undefined);
});

test("any other code is ModelClosed with the code and the reason", () => {
  assert.deepEqual(streamErrorForClosure({ code: 1011, reason: "NET-0001" }, 10), {
    kind: "ModelStreamError",
    ErrorCode: "ModelClosed",
    Message: "the model closed the WebSocket with code 1011: NET-0001",
  });
  assert.deepEqual(streamErrorForClosure({ code: 4000, reason: "" }, 10), {
    kind: "ModelStreamError",
    ErrorCode: "ModelClosed",
    Message: "the model closed the WebSocket with code 4000",
  });
});

test("no close frame is StreamBroken, naming the socket error", () => {
  const err = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
  const mapped = streamErrorForClosure({ code: 1006, reason: "", error: err }, 10);
  assert.equal(mapped?.kind, "ModelStreamError");
  assert.equal(mapped?.kind === "ModelStreamError" && mapped.ErrorCode, "StreamBroken");
  assert.match(mapped!.Message, /ECONNRESET/);
});

test("a container message over the limit is StreamBroken naming the limit, whatever the close code", () => {
  const err = Object.assign(new RangeError("Max payload size exceeded"), { code: "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" });
  const mapped = streamErrorForClosure({ code: 1006, reason: "", error: err }, 1234);
  assert.equal(mapped?.kind === "ModelStreamError" && mapped.ErrorCode, "StreamBroken");
  assert.match(mapped!.Message, /1234-byte limit/);
  assert.match(mapped!.Message, /1009/);
});

test("close reasons are cut to 123 bytes on a character boundary", () => {
  assert.equal(closeReason("short"), "short");
  const long = "€".repeat(50); // 150 bytes
  const cut = closeReason(long);
  assert.ok(Buffer.byteLength(cut) <= 123);
  assert.equal(cut, "€".repeat(41));
});
