// `npm run bench`: runs every benchmark in the registry and prints each figure next to its budget
// (DESIGN §8). `npm run bench -- store` runs only the benchmarks whose name contains "store".
// To add one: write bench/<what>.ts exporting a Benchmark and list it in BENCHMARKS below.
import {storeCommit} from './store-commit.js';
import {cliUsersList} from './cli-users-list.js';
import {bulkInvite} from './bulk-invite.js';
import {consoleBench} from './console.js';
import {consoleLiveBench} from './console-live.js';
import {webBench} from './web.js';
import {samlAcsBench} from './saml-acs.js';
import {withinBudget, type Benchmark, type Figure} from './types.js';

const BENCHMARKS: readonly Benchmark[] = [storeCommit, cliUsersList, bulkInvite, consoleBench, consoleLiveBench, webBench, samlAcsBench];

function format(value: number | undefined, unit: string): string {
	if (value === undefined) return '—';
	return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ${unit}`;
}

/** How many floors the figure is (its median, or its value). */
function floorRatio(figure: Figure): string {
	const measured = figure.median ?? figure.value;
	if (measured === undefined || !figure.floor) return '—';
	const ratio = measured / figure.floor;
	return ratio < 10 ? ratio.toFixed(1) : ratio.toFixed(0);
}

function row(figure: Figure): string[] {
	const verdict = withinBudget(figure);
	return [
		figure.name,
		format(figure.median ?? (figure.p95 === undefined ? figure.value : undefined), figure.unit),
		format(figure.p95, figure.unit),
		figure.samples === undefined ? '' : String(figure.samples),
		figure.budget ? `≤ ${figure.budget.limit} ${figure.unit} ${figure.budget.of === 'value' ? '' : figure.budget.of}`.trim() : '—',
		verdict === undefined ? '' : verdict ? 'PASS' : 'OVER',
		figure.floor === undefined ? '' : `${format(figure.floor, figure.unit)} (×${floorRatio(figure)})`,
		figure.note ?? '',
	];
}

function table(rows: string[][]): string {
	const widths = rows[0]!.map((_, column) => Math.max(...rows.map(r => [...r[column]!].length)));
	return rows.map(r => r.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

const filters = process.argv.slice(2);
const chosen = BENCHMARKS.filter(b => filters.length === 0 || filters.some(f => b.name.includes(f)));
const rows: string[][] = [['benchmark', 'median', 'p95', 'n', 'budget', '', 'floor', 'note']];
let over = 0;
for (const benchmark of chosen) {
	process.stderr.write(`running ${benchmark.name}…\n`);
	for (const figure of await benchmark.run()) {
		rows.push(row(figure));
		if (withinBudget(figure) === false) over++;
	}
}
process.stdout.write(`${table(rows)}\n`);
const os = await import('node:os');
// Wall-clock figures are only as good as the machine is quiet: say how busy it was.
process.stdout.write(`node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map(l => l.toFixed(1)).join(' ')}, ${new Date().toISOString()}\n`);
if (over > 0) {
	process.stdout.write(`${over} figure(s) over budget\n`);
	process.exitCode = 1;
}
