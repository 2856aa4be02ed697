// The LArPix controller: the chips of the boards, their configurations, and the operations on them (write/read/validate).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import {
  LARPIX_REGISTERS,
  LARPIX_TYPE,
  LarpixChipConfigUpdateSchema,
  chipKey,
  configDiff,
  configToRegisters,
  defaultChipConfig,
  encodePacket,
  parseChipKey,
  registersToConfig,
  sndwordHex,
  type ChipAddress,
  type LarpixChipConfig,
  type LarpixPacketFields,
} from "../../codecs/index.js";
import { ErrorCode, HutchError } from "../../core/index.js";
import type { BoardLink } from "./board-link.js";
import type { PacketListener, PacketReceiver } from "./packet-receiver.js";

/** A chip of the instrument: its key, and optionally configuration changes over the defaults. */
export const ChipSpecSchema = z.union([
  z.string(),
  z.strictObject({ key: z.string(), config: LarpixChipConfigUpdateSchema.optional() }),
]);
/** A chip as the instrument file or a board file names it. */
export type ChipSpec = z.infer<typeof ChipSpecSchema>;

/** A board file (`load-board`): the chips of the boards and their configurations. */
export const BoardFileSchema = z.object({
  name: z.string().optional(),
  chips: z.array(ChipSpecSchema).min(1, "a board file names at least one chip"),
});

/** One chip: address, the board it is read through, and its configuration as software holds it. */
export interface ChipState {
  readonly key: string;
  readonly address: ChipAddress;
  config: LarpixChipConfig;
}

/** Reads a board file (YAML or JSON); throws HUTCH_ERR_CONFIG naming the file and the problem. */
export function readBoardFile(path: string): { name: string; chips: ChipSpec[] } {
  const full = resolve(path);
  let raw: unknown;
  try {
    raw = parse(readFileSync(full, "utf8"));
  } catch (cause) {
    throw new HutchError(ErrorCode.Config, `board file ${full}: ${(cause as Error).message}`, { cause });
  }
  const r = BoardFileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HutchError(
      ErrorCode.Config,
      `board file ${full}: ${i.path.join(".") || "(top level)"}: ${i.message}`,
    );
  }
  return { name: r.data.name ?? full, chips: r.data.chips };
}

/**
 * Holds the chips and talks to them through the board links (by io group). Every packet sent to the chips is
 * also recorded in the `packets` stream (direction 0), as larpix-control's logger did.
 * @example await controller.writeConfig(); const v = await controller.validateConfig("1-1-246");
 */
export class LarpixController {
  private chipList: ChipState[] = [];
  /** The boards' CLK2X in kHz (set with `SETFREQ` at configure); the forced-trigger rate is CLK2X / divisor. */
  clockKHz = 10_000;

  constructor(
    private readonly links: ReadonlyMap<number, BoardLink>,
    private readonly receiver: PacketReceiver,
    chips: readonly ChipSpec[],
    private readonly readTimeoutMs: number,
  ) {
    this.setChips(chips);
  }

  /** The chips, in the order given. */
  get chips(): readonly ChipState[] {
    return this.chipList;
  }

  /** The boards by io group. */
  get boards(): ReadonlyMap<number, BoardLink> {
    return this.links;
  }

  /** Replaces the chips (load-board); every chip's io group must have a board. */
  setChips(specs: readonly ChipSpec[]): void {
    const seen = new Set<string>();
    const next: ChipState[] = specs.map((s) => {
      const spec = typeof s === "string" ? { key: s } : s;
      const address = parseChipKey(spec.key);
      const key = chipKey(address.ioGroup, address.ioChannel, address.chipId);
      if (seen.has(key)) throw new HutchError(ErrorCode.Config, `chip ${key} is listed twice`);
      seen.add(key);
      if (!this.links.has(address.ioGroup)) {
        throw new HutchError(
          ErrorCode.Config,
          `chip ${key}: no board has io group ${address.ioGroup} (boards: ${[...this.links.values()].map((l) => `${l.spec.name}=${l.spec.ioGroup}`).join(", ")})`,
        );
      }
      return { key, address, config: { ...defaultChipConfig(), ...(spec.config ?? {}) } };
    });
    this.chipList = next;
  }

  /** The chip with this key; throws HUTCH_ERR_VALIDATION listing the known ones. */
  chip(key: string): ChipState {
    const a = parseChipKey(key);
    const c = this.chipList.find((x) => x.key === chipKey(a.ioGroup, a.ioChannel, a.chipId));
    if (!c) {
      throw new HutchError(
        ErrorCode.Validation,
        `no chip ${key} (chips: ${this.chipList.map((x) => x.key).join(", ") || "none"})`,
      );
    }
    return c;
  }

  /** Chips selected by key (all when undefined or empty). */
  select(keys?: readonly string[]): ChipState[] {
    return keys && keys.length ? keys.map((k) => this.chip(k)) : [...this.chipList];
  }

  /** The board link of a chip. */
  linkOf(chip: ChipState): BoardLink {
    return this.links.get(chip.address.ioGroup)!;
  }

  /** Listens to every decoded packet batch (see PacketReceiver.listen). */
  onPackets(fn: PacketListener): () => void {
    return this.receiver.listen(fn);
  }

  /** Sends packets to one chip, one `SNDWORD` per packet as larpix-control does, each acknowledged by the board. */
  async send(chip: ChipState, packets: readonly Omit<LarpixPacketFields, "chipId">[]): Promise<void> {
    const link = this.linkOf(chip);
    const { ioGroup, ioChannel, chipId } = chip.address;
    const packed = new Uint8Array(7 * packets.length);
    packets.forEach((p, k) => encodePacket({ ...p, chipId } as LarpixPacketFields, packed, 7 * k));
    for (let k = 0; k < packets.length; k++) {
      await link.command(`SNDWORD ${sndwordHex(packed, 7 * k)} ${ioChannel}`);
    }
    this.receiver.recordSent(packed, packets.length, ioGroup, ioChannel);
  }

  /** Writes the stored configuration to chips (all registers, or only `registers`). */
  async writeConfig(
    keys?: readonly string[],
    registers?: readonly number[],
  ): Promise<{ chips: string[]; registers: number }> {
    const chips = this.select(keys);
    const regs = registers ?? Array.from({ length: LARPIX_REGISTERS }, (_, i) => i);
    for (const c of chips) {
      const values = configToRegisters(c.config);
      await this.send(
        c,
        regs.map((r) => ({ type: LARPIX_TYPE.configWrite, register: r, value: values[r]! })),
      );
    }
    return { chips: chips.map((c) => c.key), registers: regs.length * chips.length };
  }

  /**
   * Reads all 63 registers of a chip: sends config reads and waits for the config-read packets on the data
   * socket. HUTCH_ERR_TIMEOUT names the registers that did not come back within `timeoutMs`.
   */
  async readConfig(key: string, timeoutMs = this.readTimeoutMs): Promise<Uint8Array> {
    const chip = this.chip(key);
    const { ioGroup, ioChannel, chipId } = chip.address;
    const values = new Int16Array(LARPIX_REGISTERS).fill(-1);
    let got = 0;
    let done: (() => void) | undefined;
    const stop = this.onPackets((b) => {
      for (let i = 0; i < b.n; i++) {
        if (
          b.type[i] === LARPIX_TYPE.configRead &&
          b.direction[i] === 1 &&
          b.chipId[i] === chipId &&
          b.ioGroup[i] === ioGroup &&
          b.ioChannel[i] === ioChannel &&
          b.validParity[i] === 1 &&
          b.register[i]! < LARPIX_REGISTERS &&
          values[b.register[i]!] === -1
        ) {
          values[b.register[i]!] = b.value[i]!;
          if (++got === LARPIX_REGISTERS) done?.();
        }
      }
    });
    try {
      const all = new Promise<void>((r) => (done = r));
      await this.send(
        chip,
        Array.from({ length: LARPIX_REGISTERS }, (_, r) => ({
          type: LARPIX_TYPE.configRead,
          register: r,
          value: 0,
        })),
      );
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
      await Promise.race([all, late]);
      clearTimeout(timer);
    } finally {
      stop();
    }
    if (got < LARPIX_REGISTERS) {
      const missing = [...values.keys()].filter((r) => values[r] === -1);
      throw new HutchError(
        ErrorCode.Timeout,
        `chip ${chip.key}: ${missing.length} of ${LARPIX_REGISTERS} registers not read back within ${timeoutMs} ms (registers ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", ..." : ""})`,
      );
    }
    return Uint8Array.from(values);
  }

  /** Reads a chip's configuration and compares it with the stored one: `{ok, differences: {name: [actual, stored]}}`. */
  async validateConfig(
    key: string,
  ): Promise<{ chip: string; ok: boolean; differences: Record<string, [unknown, unknown]> }> {
    const chip = this.chip(key);
    const actual = registersToConfig(await this.readConfig(key));
    const differences = configDiff(actual, chip.config);
    return { chip: chip.key, ok: Object.keys(differences).length === 0, differences };
  }

  /** Sends a command to every board (or the boards of `chips`) that must answer OK. */
  async boardCommand(command: string, chips?: readonly ChipState[]): Promise<void> {
    const groups = chips ? new Set(chips.map((c) => c.address.ioGroup)) : new Set(this.links.keys());
    for (const g of groups) await this.links.get(g)!.command(command);
  }
}
