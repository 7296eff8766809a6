// The published values of the reference beside the repository (../shared/reference/sspi-reference.md),
// read from its tables, so that a header test compares a constant with what the document prints
// rather than with a second copy of the same number. Two kinds of table are read:
//
//   | Name | Value |  (or Hex)    a row "SECBUFFER_TOKEN | 2 | ..." or "A / B | 0x10000" (both names
//                                 that value) or "A_X / Y | 1 / 2" (pairwise, Y meaning A_Y); bold
//                                 and backticks dropped
//   | Bit | ISC_REQ_* | ISC_RET_* |  a row "0x00000010 | CONFIDENTIALITY | CONFIDENTIALITY": each column
//                                 names the bit with its prefix; "—" and notes in parentheses name nothing
//
// and definitions in the text, "`SECPKG_ID_NONE` = **0xFFFF**" or "`SEC_WINNT_AUTH_IDENTITY_ANSI` 0x1".

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the reference is: beside the repository root (this file runs from dist/test/helpers). */
export const REFERENCE_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'reference', 'sspi-reference.md');

export interface Reference {
  /** Every name a table publishes, with its value. */
  values: ReadonlyMap<string, number>;
  /** Names published twice with different values (none is expected). */
  conflicts: string[];
}

const NAME = /^[A-Z][A-Z0-9_]*[A-Z0-9]$/;

/** A published number: "0x80090308", "0x1_00000000", "14", "0x00000001 (use with ...)"; undefined for anything else. */
export function publishedNumber(cell: string): number | undefined {
  const m = /^(0x[0-9a-fA-F_]+|\d+)(?![\w.])/.exec(cell.trim());
  return m === null ? undefined : Number(m[1]!.replaceAll('_', ''));
}

/** The reference's values, or undefined when the document is not beside the repository. */
export function readReference(path = REFERENCE_PATH): Reference | undefined {
  if (!existsSync(path)) return undefined;
  return parseReference(readFileSync(path, 'utf8'));
}

export function parseReference(markdown: string): Reference {
  const values = new Map<string, number>();
  const conflicts: string[] = [];
  const publish = (name: string, value: number): void => {
    const known = values.get(name);
    if (known === undefined) values.set(name, value);
    else if (known !== value) conflicts.push(`${name}: ${known} and ${value}`);
  };
  const cellsOf = (line: string): string[] =>
    line
      .trim()
      .replace(/^\|/, '')
      .replace(/\|$/, '')
      .split('|')
      .map((c) => c.trim().replaceAll('**', '').replaceAll('`', ''));

  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.trim().startsWith('|') || !/^\s*\|\s*-+/.test(lines[i + 1] ?? '')) continue;
    const header = cellsOf(lines[i]!);
    let j = i + 2;
    for (; j < lines.length && lines[j]!.trim().startsWith('|'); j++) {
      const cells = cellsOf(lines[j]!);
      if (header[0] === 'Bit') {
        const value = publishedNumber(cells[0] ?? '');
        if (value === undefined) continue;
        header.slice(1).forEach((column, k) => {
          const prefix = column.endsWith('*') ? column.slice(0, -1) : undefined;
          const name = /^([A-Z][A-Z0-9_]*)/.exec(cells[k + 1] ?? '')?.[1];
          if (prefix !== undefined && name !== undefined && NAME.test(name)) publish(prefix + name, value);
        });
      } else if (header[0] === 'Name' && (header[1] === 'Value' || header[1] === 'Hex')) {
        // "SECPKG_NEGOTIATION_COMPLETE / OPTIMISTIC / ...": a bare later name shares the first one's prefix.
        const parts = (cells[0] ?? '').split(' / ').map((n) => n.replace(/\s+\(.*\)$/, '').trim());
        const family = parts[0]!.slice(0, parts[0]!.lastIndexOf('_') + 1);
        const names = parts.map((n, k) => (k > 0 && !n.startsWith(parts[0]!.split('_')[0]!) ? family + n : n));
        const numbers = (cells[1] ?? '').split(' / ').map(publishedNumber);
        if (!names.every((n) => NAME.test(n)) || numbers.some((n) => n === undefined)) continue;
        if (numbers.length === 1) for (const n of names) publish(n, numbers[0]!);
        else if (numbers.length === names.length) names.forEach((n, k) => publish(n, numbers[k]!));
      }
    }
    i = j - 1;
  }
  // Definitions in the text: "`SECPKG_ID_NONE` = **0xFFFF**", "`SEC_WINNT_AUTH_IDENTITY_ANSI` 0x1".
  for (const m of markdown.matchAll(/`([A-Z][A-Z0-9_]*[A-Z0-9])`(?:\s*=\s*\*{0,2}|\s+)(0x[0-9A-Fa-f]+|\d+)\b/g)) publish(m[1]!, Number(m[2]));
  return { values, conflicts };
}

/**
 * The members of a "| # | Member | ..." table under the heading that starts with `heading`
 * ("### 7.6"), in the document's order: each row's first identifier ("CrediRead, or DummyFunction1
 * ..." names CrediRead). Undefined when the document is not beside the repository.
 */
export function readMemberOrder(heading: string, path = REFERENCE_PATH): string[] | undefined {
  if (!existsSync(path)) return undefined;
  const lines = readFileSync(path, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.startsWith(heading));
  if (start < 0) throw new Error(`the reference has no heading ${heading}`);
  const members: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('#')) break;
    const m = /^\|\s*(\d+)\s*\|\s*`?([A-Za-z][A-Za-z0-9]*)/.exec(line);
    if (m !== null) members.push(m[2]!);
  }
  return members;
}
