// lookup3 against the reference vectors of lookup3.c (driver5), as HDF5 uses it for superblock checksums.
import { describe, expect, it } from "vitest";
import { lookup3 } from "./superblock.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("lookup3", () => {
  it("matches Bob Jenkins' reference values", () => {
    expect(lookup3(bytes(""), 0)).toBe(0xdeadbeef);
    expect(lookup3(bytes(""), 0xdeadbeef)).toBe(0xbd5b7dde);
    expect(lookup3(bytes("Four score and seven years ago"), 0)).toBe(0x17770551);
    expect(lookup3(bytes("Four score and seven years ago"), 1)).toBe(0xcd628161);
  });
});
