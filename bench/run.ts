// `npm run bench`: runs every benchmark in the registry and prints each figure next to its budget
// (DESIGN §8, bench/budgets.ts) and the floor measured in the same run, with the ratio of the two.
// `npm run bench -- store` runs only the benchmarks whose name contains "store"; `--quick` takes
// fewer samples (same sizes, same budgets) so that a whole run fits in a few minutes.
// To add one: write bench/<what>.ts exporting a Benchmark and list it in BENCHMARKS below.
import {storeCommit} from './store-commit.js';
import {cliUsersList} from './cli-users-list.js';
import {bulkInvite} from './bulk-invite.js';
import {consoleBench} from './console.js';
import {consoleLiveBench} from './console-live.js';
import {webBench} from './web.js';
import {samlAcsBench} from './saml-acs.js';
import {postgresBench} from './postgres.js';
import {QUICK, withinBudget, type Benchmark, type Figure} from './types.js';

const BENCHMARKS: readonly Benchmark[] = [storeCommit, cliUsersList, bulkInvite, consoleBench, consoleLiveBench, webBench, samlAcsBench, postgresBench];

function format(value: number | undefined, unit: string): string {
	if (value === undefined) return '—';
	return `${value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)} ${unit}`;
}

/** The statistic a figure is judged by: its budget's, else its median, else its value. */
function judged(figure: Figure): number | undefined {
	return figure.budget ? figure[figure.budget.of] : (figure.median ?? figure.value);
}

/** How many floors the figure is (the statistic it is judged by, over the floor's). */
function floorRatio(figure: Figure): string {
	const measured = judged(figure);
	if (measured === undefined || !figure.floor) return '';
	const ratio = measured / figure.floor;
	return `×${ratio < 10 ? ratio.toFixed(2) : ratio.toFixed(1)}`;
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
		figure.floor === undefined ? '' : `${format(figure.floor, figure.unit)} ${figure.floorOf ?? ''}`.trim(),
		floorRatio(figure),
		figure.note ?? '',
	];
}

function table(rows: string[][]): string {
	const widths = rows[0]!.map((_, column) => Math.max(...rows.map(r => [...r[column]!].length)));
	return rows.map(r => r.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

const os = await import('node:os');
const loadAtStart = os.loadavg()[0]!;
const filters = process.argv.slice(2).filter(argument => !argument.startsWith('--'));
const chosen = BENCHMARKS.filter(b => filters.length === 0 || filters.some(f => b.name.includes(f)));
const rows: string[][] = [['benchmark', 'median', 'p95', 'n', 'budget', '', 'floor', 'ratio', 'note']];
let over = 0;
for (const benchmark of chosen) {
	process.stderr.write(`running ${benchmark.name}…\n`);
	for (const figure of await benchmark.run()) {
		rows.push(row(figure));
		if (withinBudget(figure) === false) over++;
	}
}
process.stdout.write(`${table(rows)}\n`);
// Wall-clock figures are only as good as the machine is quiet: say how busy it was.
process.stdout.write(`${QUICK ? 'quick run (--quick: fewer samples), ' : ''}node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg().map(l => l.toFixed(1)).join(' ')} (1-minute ${loadAtStart.toFixed(1)} at the start), ${new Date().toISOString()}\n`);
if (over > 0) {
	process.stdout.write(`${over} figure(s) over budget\n`);
	process.exitCode = 1;
}
