/**
 * Semantic styles for `<Text>`. With NO_COLOR set (any non-empty value, no-color.org) colours are
 * dropped but bold, inverse and dim stay, and selection is also marked with a glyph, so nothing
 * depends on colour alone (TUI.md pitfall 11).
 */
export type TextStyle = {readonly color?: string; readonly bold?: boolean; readonly inverse?: boolean; readonly dimColor?: boolean};

export type Theme = {
	readonly title: TextStyle;
	readonly accent: TextStyle;
	readonly muted: TextStyle;
	readonly selected: TextStyle;
	readonly error: TextStyle;
	readonly success: TextStyle;
	readonly warning: TextStyle;
	readonly key: TextStyle;
	readonly heading: TextStyle;
	/** Marks the selected row in lists and the active section, with or without colour. */
	readonly pointer: string;
	readonly noColor: boolean;
};

export function makeTheme(noColor: boolean): Theme {
	const c = (color: string): {color?: string} => (noColor ? {} : {color});
	return {
		title: {bold: true, ...c('cyan')},
		accent: c('cyan'),
		muted: {dimColor: true},
		selected: {inverse: true},
		error: {bold: true, ...c('red')},
		success: c('green'),
		warning: {bold: true, ...c('yellow')},
		key: {bold: true, ...c('cyan')},
		heading: {bold: true},
		pointer: '›',
		noColor,
	};
}

/** The theme for this process: NO_COLOR wins. */
export const theme: Theme = makeTheme(Boolean(process.env['NO_COLOR']));
