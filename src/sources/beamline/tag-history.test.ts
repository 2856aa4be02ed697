import { describe, expect, it } from "vitest";
import { TagHistory } from "./tag-history.js";

describe("TagHistory", () => {
  it("joins values of one tag from several columns and returns the newest N tags oldest first", () => {
    const h = new TagHistory(5);
    for (let t = 10; t <= 16; t += 2) h.put(t, "point.i0", t / 10);
    h.put(14, "rois.roi1", 140);
    h.put(16, "rois.roi1", 160);
    const r = h.newest(3, ["point.i0", "rois.roi1"]);
    expect([...r.tags]).toEqual([12, 14, 16]);
    expect([...r.values["point.i0"]!]).toEqual([1.2, 1.4, 1.6]);
    expect([...r.values["rois.roi1"]!]).toEqual([NaN, 140, 160]);
    expect(h.newest(100, []).tags.length).toBe(4);
  });

  it("stays bounded: the oldest tag goes with all its values; values older than the history are refused", () => {
    const h = new TagHistory(3);
    for (let t = 1; t <= 5; t++) h.put(t, "a", t);
    expect(h.size).toBe(3);
    expect([...h.newest(10, ["a"]).tags]).toEqual([3, 4, 5]);
    expect(h.put(1, "a", 1)).toBe(false);
    expect(h.late).toBe(1);
    expect(h.oldestTag()).toBe(3);
    expect(h.newestTag()).toBe(5);
    h.put(6, "b", 60); // a new column reads NaN for older tags, and tag 3 is dropped
    expect([...h.newest(3, ["a", "b"]).values["b"]!]).toEqual([NaN, NaN, 60]);
    expect([...h.newest(3, ["a"]).values["a"]!]).toEqual([4, 5, NaN]);
  });

  it("sorts by tag when a stream delivers a tag before the others, and names unknown columns", () => {
    const h = new TagHistory(10);
    h.put(20, "rois.roi1", 2);
    h.put(18, "point.i0", 1);
    expect([...h.newest(2, ["rois.roi1"]).tags]).toEqual([18, 20]);
    expect(() => h.newest(1, ["nope"])).toThrow(/no column 'nope'.*point\.i0/);
    h.clear();
    expect(h.size).toBe(0);
    expect(h.names()).toEqual(["rois.roi1", "point.i0"]);
  });
});
