/** "1 project", "3 projects", "0 API tokens"; irregular nouns give their plural: plural(n, 'person', 'people'). */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
	return `${count} ${count === 1 ? noun : nouns}`;
}
