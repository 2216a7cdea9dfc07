import { test } from "node:test";
import assert from "node:assert/strict";
import { parseLongDate, toLongDate } from "./sigv4-dates.js";

test("long dates drop milliseconds and round-trip", () => {
  assert.equal(toLongDate(Date.UTC(2026, 10, 25, 9, 51, 31, 745)), "20261125T095131Z");
  assert.equal(parseLongDate("20261125T095131Z"), Date.UTC(2026, 10, 25, 9, 51, 31));
});

test("anything but a real basic-format UTC timestamp is refused", () => {
  for (const bad of ["", "2026-11-25T09:51:31Z", "20261125T095131", "20261345T000000Z", "20261125T246000Z", "20260230T000000Z", " 20261125T095131Z"]) {
    assert.equal(parseLongDate(bad), undefined, bad);
  }
});
