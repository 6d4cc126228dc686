// What a process's heap holds, from a V8 heap snapshot: `node --import tsx bench/heap-breakdown.ts
// FILE.heapsnapshot`. To take one of a console at rest: start it with
// NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2, wait, `kill -USR2 <pid>` (it writes
// Heap.<date>.<pid>...heapsnapshot in its folder). Prints the heap by kind of object, then the
// strings by the field that holds them (a record's `email`, an array slot, source code), the
// numbers issue 21's memory work started from.
import {readFileSync} from 'node:fs';

type Snapshot = {
	snapshot: {meta: {node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]]}};
	nodes: number[];
	edges: number[];
	strings: string[];
};

const file = process.argv[2];
if (!file) throw new Error('usage: node --import tsx bench/heap-breakdown.ts FILE.heapsnapshot');
const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const {meta} = snap.snapshot;
const nodeWidth = meta.node_fields.length;
const edgeWidth = meta.edge_fields.length;
const [nodeTypes] = meta.node_types;
const [edgeTypes] = meta.edge_types;
const at = (field: string) => meta.node_fields.indexOf(field);
const [TYPE, NAME, SELF, EDGES] = [at('type'), at('name'), at('self_size'), at('edge_count')];
const {nodes, edges, strings} = snap;
const count = nodes.length / nodeWidth;
const typeOf = (n: number) => nodeTypes[nodes[n * nodeWidth + TYPE]!]!;
const nameOf = (n: number) => strings[nodes[n * nodeWidth + NAME]!]!;
const selfOf = (n: number) => nodes[n * nodeWidth + SELF]!;
const isString = (n: number) => typeOf(n).endsWith('string');
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`.padStart(9);

/** What a string looks like, so that 100,000 e-mails show as one line. */
function shapeOfString(text: string): string {
	if (/^[0-9a-f]{32}$/.test(text)) return 'id (32 hex)';
	if (/^[0-9a-f]{64}$/.test(text)) return 'SHA-256 (64 hex)';
	if (text.startsWith('scrypt$')) return 'scrypt hash';
	if (/^\d{4}-\d\d-\d\dT/.test(text)) return 'ISO time';
	if (text.startsWith('{"')) return 'JSON line';
	if (text.includes('@') && text.length < 120) return 'has @ (e-mail, search text)';
	return text.length > 1000 ? 'long text (source code)' : 'other';
}

// Who holds each string: a record's field if one does, else the first other edge (an array slot, a hash table).
const holder = new Map<number, string>();
for (const pass of ['property', 'other']) {
	for (let n = 0, e = 0; n < count; n++) {
		const from = typeOf(n) === 'object' ? nameOf(n) : typeOf(n);
		for (let k = 0; k < nodes[n * nodeWidth + EDGES]!; k++, e += edgeWidth) {
			const to = edges[e + 2]! / nodeWidth;
			const kind = edgeTypes[edges[e]!]!;
			if (kind === 'weak' || (kind === 'property') !== (pass === 'property') || !isString(to) || holder.has(to)) continue;
			holder.set(to, kind === 'property' ? `${from}.${strings[edges[e + 1]!]!}` : `${from}[${kind}]`);
		}
	}
}

const kinds = new Map<string, [number, number]>();
const held = new Map<string, [number, number]>();
let total = 0;
for (let n = 0; n < count; n++) {
	const size = selfOf(n);
	total += size;
	const kind = isString(n) ? 'strings' : typeOf(n) === 'code' ? 'code' : `${typeOf(n)} ${nameOf(n).slice(0, 60)}`;
	const k = kinds.get(kind) ?? [0, 0];
	kinds.set(kind, [k[0] + size, k[1] + 1]);
	if (!isString(n)) continue;
	const key = `${shapeOfString(nameOf(n))} ← ${holder.get(n) ?? '?'}`;
	const h = held.get(key) ?? [0, 0];
	held.set(key, [h[0] + size, h[1] + 1]);
}
const top = (map: Map<string, [number, number]>, n: number) =>
	[...map]
		.sort((a, b) => b[1][0] - a[1][0])
		.slice(0, n)
		.map(([key, [size, many]]) => `${mb(size)} ${String(many).padStart(9)}  ${key}`)
		.join('\n');
process.stdout.write(`${file}: ${count} objects, ${mb(total).trim()}\n\nby kind of object (size, how many)\n${top(kinds, 25)}\n\nstrings, by what they look like and what holds them\n${top(held, 25)}\n`);
