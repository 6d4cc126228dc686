import {inert} from '../core/inert.js';
import {changeBetween} from './follow-rows.js';
import {fit} from './format.js';

/** How a column takes its share of a table's width. */
export type WidthRule = {
	/** Narrowest it may be; a column that cannot have this much is hidden. */
	readonly min: number;
	/** What it gets when there is room (at least `min`). */
	readonly width: number;
	/**
	 * Who is served first: columns get their preferred width in priority order, highest first; the
	 * one that no longer fits takes what is left (if that is at least its minimum), and those after
	 * it are hidden. So when the table is narrow the lowest priorities go first, and the column that
	 * gives way (shrinks) is the one where the room runs out.
	 */
	readonly priority: number;
	/** A share of the room left once every shown column has its preferred width (the e-mail, a target). */
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
 * Shares `total` columns among the rules: in priority order (highest first, then left to right)
 * each column gets its preferred width while it fits; the first that does not fit gets what is
 * left when that is at least its minimum, else it is hidden, and every column after it is hidden
 * too; room left over when all shown columns have their preferred width goes to the growing
 * columns by weight. 0 means hidden. The first column by priority always shows, cut if need be.
 */
export function columnWidths(rules: readonly WidthRule[], total: number): number[] {
	const widths = rules.map(() => 0);
	const order = rules.map((rule, index) => ({rule, index})).sort((a, b) => b.rule.priority - a.rule.priority || a.index - b.index);
	let room = total;
	let full = false;
	for (const {rule, index} of order) {
		const gap = widths.some(w => w > 0) ? GAP : 0;
		if (full || room - gap <= 0) {
			full = true;
			continue;
		}
		const want = Math.max(rule.min, rule.width);
		if (want <= room - gap) {
			widths[index] = want;
			room -= want + gap;
			continue;
		}
		full = true;
		if (room - gap >= rule.min || gap === 0) {
			widths[index] = Math.max(1, room - gap);
			room = 0;
		}
	}
	const growing = rules.map((rule, i) => (widths[i]! > 0 ? (rule.grow ?? 0) : 0));
	const weight = growing.reduce((sum, g) => sum + g, 0);
	if (room > 0 && weight > 0) {
		let left = room;
		growing.forEach((g, i) => {
			const add = Math.floor((room * g) / weight);
			widths[i]! += add;
			left -= add;
		});
		// Rounding leaves a few columns: to the growing column of highest priority.
		const first = order.find(({index}) => growing[index]! > 0);
		if (first) widths[first.index]! += left;
	}
	return widths;
}

/**
 * The columns with each preferred width lowered to what the rows hold (and the title), so a
 * column of short usernames does not keep 16 columns the e-mail could use. Measured once per
 * change of the data over every row (not only the visible ones), so the layout stays put while
 * scrolling and filtering; string length stands in for width (cheap for 100,000 rows). A column
 * whose title already takes its preferred width is not measured at all.
 */
export function fitToContent<T>(columns: readonly Column<T>[], rows: readonly T[]): Column<T>[] {
	return columns.map(column => fitted(column, longestCell(column, rows)));
}

/**
 * {@link fitToContent} of `rows`, from `before` (what it gave for the rows as they were) and what
 * changed (the rows that left and entered): a change made elsewhere measures the rows it
 * touched, not all of them. A column is measured over every row again only when a row that left
 * was as wide as the column, so that it may narrow. Gives what fitToContent gives.
 */
export function refitToContent<T>(columns: readonly Column<T>[], before: readonly Column<T>[], rows: readonly T[], change: {readonly removed: Iterable<T>; readonly added: readonly T[]}): readonly Column<T>[] {
	const removed = [...change.removed];
	const next = columns.map((column, i) => {
		const was = before[i]!.width;
		if (column.title.length >= column.width) return column;
		// A row that left held the widest cell: another may now be the widest, or none as wide.
		if (was > column.title.length && removed.some(row => cellLength(column, row) >= was)) return fitted(column, longestCell(column, rows));
		let longest = was;
		for (const row of change.added) longest = Math.max(longest, cellLength(column, row));
		const width = Math.min(column.width, longest);
		return width === was ? before[i]! : fitted(column, width);
	});
	// The same widths: the same columns, so nothing derived from them is made again.
	return next.every((column, i) => column === before[i]) ? before : next;
}

/**
 * The function that fits `columns` to each version of the rows it is given, remembering the last:
 * rows that differ from the last by a few records replaced, added or removed (the store keeps the
 * object of every record nobody touched) are refitted from what it gave for those
 * ({@link refitToContent}); any other rows are measured whole.
 */
export function followFit<T>(columns: readonly Column<T>[]): (rows: readonly T[]) => readonly Column<T>[] {
	let last: {rows: readonly T[]; fitted: readonly Column<T>[]} | undefined;
	return rows => {
		const change = last && changeBetween(last.rows, rows);
		const fitted = last && change ? refitToContent(columns, last.fitted, rows, change) : fitToContent(columns, rows);
		last = {rows, fitted};
		return fitted;
	};
}

/** Measured as drawn: an escaped control character takes the columns of its escape. */
function cellLength<T>(column: Column<T>, row: T): number {
	return inert(column.cell(row)).length;
}

/** The length of the column's longest cell or its title, up to its preferred width (no row is measured once it is reached). */
function longestCell<T>(column: Column<T>, rows: readonly T[]): number {
	let longest = column.title.length;
	if (longest >= column.width) return column.width;
	for (const row of rows) {
		const length = cellLength(column, row);
		if (length > longest) {
			longest = length;
			if (longest >= column.width) return column.width;
		}
	}
	return longest;
}

function fitted<T>(column: Column<T>, longest: number): Column<T> {
	const width = Math.min(column.width, longest);
	return width === column.width ? column : {...column, width, min: Math.min(column.min, width)};
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
