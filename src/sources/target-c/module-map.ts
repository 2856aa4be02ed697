// Which TARGET-C module a datagram comes from, by its source address: the SSDAQ last-octet rule or an explicit table.
import { z } from "zod";

/** The SSDAQ rule: module = (last octet % modulo) - offset; x.x.x.101..132 are modules 0..31 by default. */
export const LastOctetMapSchema = z.object({
  kind: z.literal("last-octet"),
  modulo: z.number().int().min(1).default(100),
  offset: z.number().int().default(1),
});

/** An explicit address -> module table, e.g. `{ "10.0.3.17": 0, "10.0.3.18": 1 }`. */
export const TableMapSchema = z.object({
  kind: z.literal("table"),
  table: z.record(z.string(), z.number().int().min(0)),
});

/** How source addresses map to modules (instrument file `moduleMap:`). */
export const ModuleMapSchema = z
  .discriminatedUnion("kind", [LastOctetMapSchema, TableMapSchema])
  .default({ kind: "last-octet", modulo: 100, offset: 1 });
/** How source addresses map to modules. */
export type ModuleMap = z.infer<typeof ModuleMapSchema>;

/** Distinct addresses remembered; past this the cache restarts, so a spray of spoofed sources cannot grow it. */
const CACHE_LIMIT = 4096;

/**
 * Makes the address -> module function of a map: a module index in 0..modules-1, or -1 when the address is not
 * a module (unknown source). Results are cached per address string.
 * @example const moduleOf = moduleResolver({ kind: "last-octet", modulo: 100, offset: 1 }, 32); moduleOf("127.0.0.101") // 0
 */
export function moduleResolver(map: ModuleMap, modules: number): (address: string) => number {
  const cache = new Map<string, number>();
  const compute =
    map.kind === "table"
      ? (a: string) => {
          const m = map.table[a];
          return m !== undefined && m < modules ? m : -1;
        }
      : (a: string) => {
          const dot = a.lastIndexOf(".");
          if (dot < 0) return -1;
          const octet = Number(a.slice(dot + 1));
          if (!Number.isInteger(octet) || octet < 0 || octet > 255) return -1;
          const m = (octet % map.modulo) - map.offset;
          return m >= 0 && m < modules ? m : -1;
        };
  return (address) => {
    let m = cache.get(address);
    if (m === undefined) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      m = compute(address);
      cache.set(address, m);
    }
    return m;
  };
}

/**
 * The same map for addresses given as host-order uint32 IPv4 (a.b.c.d = a << 24 | ... | d), as the native receive
 * path reports them: a 256-entry table for the last-octet rule, a cache per address for an explicit table.
 * @example moduleResolverIpv4({ kind: "last-octet", modulo: 100, offset: 1 }, 32)(0x7f000065) // 0 (127.0.0.101)
 */
export function moduleResolverIpv4(map: ModuleMap, modules: number): (address: number) => number {
  const byString = moduleResolver(map, modules);
  if (map.kind === "last-octet") {
    const byOctet = new Int32Array(256);
    for (let o = 0; o < 256; o++) byOctet[o] = byString(`0.0.0.${o}`);
    return (a) => byOctet[a & 255]!;
  }
  const cache = new Map<number, number>();
  return (a) => {
    let m = cache.get(a);
    if (m === undefined) {
      if (cache.size >= CACHE_LIMIT) cache.clear();
      m = byString(ipv4String(a));
      cache.set(a, m);
    }
    return m;
  };
}

/** `a.b.c.d` of a host-order uint32 IPv4 address. */
export function ipv4String(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
