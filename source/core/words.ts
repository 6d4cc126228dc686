/** "1 project", "3 projects", "0 API tokens"; irregular nouns name their plural: plural(2, 'person', 'people'). */
export function plural(count: number, noun: string, many = `${noun}s`): string {
	return `${count.toLocaleString('en-US')} ${count === 1 ? noun : many}`;
}

/**
 * Text someone typed, quoted for an error message: whole when short, else its start and its
 * length, so a 2,000-character paste is not echoed back whole (and cannot flood the screen).
 * Like any foreign text it is printed through `inert`, which makes its control characters visible.
 */
export function quoted(text: string, max = 40): string {
	const chars = [...text];
	if (chars.length <= max) return `"${text}"`;
	return `"${shortened(text, max)}" (${chars.length.toLocaleString('en-US')} characters)`;
}

/** Text cut to at most `max` characters, `…` marking the cut. */
export function shortened(text: string, max = 40): string {
	const chars = [...text];
	return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
