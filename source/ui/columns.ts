import {fit} from './format.js';

/** How a column takes its share of a table's width. */
export type WidthRule = {
	/** Narrowest it may be; a column that cannot have this much is hidden. */
	readonly min: number;
	/** What it gets when there is room (at least `min`). */
	readonly width: number;
	/**
	 * Who gives way: when the table is too narrow, the lowest priority is hidden first; room above
	 * the minimums goes to the highest priority first.
	 */
	readonly priority: number;
	/** A share of the room left once every column has its preferred width (the e-mail, a target). */
	readonly grow?: number;
};

/** One column of a table, declared once for its header and its rows alike. */
export type Column<T> = WidthRule & {
	readonly title: string;
	readonly cell: (row: T) => string;
};

/** Cells are one space apart: 80 columns are tight. */
export const GAP = 1;

/**
 * Shares `total` columns among the rules, in three steps: hide the lowest priorities while even
 * the minimums do not fit; then raise columns towards their preferred width, highest priority
 * first; then hand what is left to the growing columns by weight. 0 means hidden.
 */
export function columnWidths(rules: readonly WidthRule[], total: number): number[] {
	const shown = rules.map(() => true);
	const span = (widths: readonly number[]) => {
		const visible = widths.filter((_, i) => shown[i]);
		return visible.reduce((sum, w) => sum + w, 0) + GAP * Math.max(0, visible.length - 1);
	};
	const byPriority = rules.map((rule, index) => ({rule, index})).sort((a, b) => a.rule.priority - b.rule.priority || b.index - a.index);
	const mins = rules.map(rule => rule.min);
	for (const {index} of byPriority) {
		if (span(mins) <= total || shown.filter(Boolean).length === 1) break;
		shown[index] = false;
	}
	const widths = rules.map((rule, i) => (shown[i] ? rule.min : 0));
	let room = total - span(widths);
	for (const {rule, index} of [...byPriority].reverse()) {
		if (room <= 0) break;
		if (!shown[index]) continue;
		const add = Math.min(room, Math.max(0, rule.width - widths[index]!));
		widths[index]! += add;
		room -= add;
	}
	const growing = rules.map((rule, i) => (shown[i] ? (rule.grow ?? 0) : 0));
	const weight = growing.reduce((sum, g) => sum + g, 0);
	if (room > 0 && weight > 0) {
		let left = room;
		growing.forEach((g, i) => {
			const add = Math.floor((room * g) / weight);
			widths[i]! += add;
			left -= add;
		});
		// Rounding leaves a few columns: to the growing column of highest priority.
		const first = [...byPriority].reverse().find(({index}) => growing[index]! > 0);
		if (first) widths[first.index]! += left;
	}
	return widths;
}

/** A table's columns at one width: the header line and a row's line, cells fitted and one space apart. */
export type Table<T> = {
	readonly widths: readonly number[];
	readonly header: string;
	readonly line: (row: T) => string;
};

export function table<T>(columns: readonly Column<T>[], total: number): Table<T> {
	const widths = columnWidths(columns, total);
	const join = (cells: (column: Column<T>) => string) =>
		columns
			.map((column, i) => (widths[i]! > 0 ? fit(cells(column), widths[i]!) : undefined))
			.filter((cell): cell is string => cell !== undefined)
			.join(' '.repeat(GAP));
	return {widths, header: join(column => column.title), line: row => join(column => column.cell(row))};
}
