/** This process's environment without the variables that make Ink draw only its last frame (TUI.md pitfall 8), for an Ink fixture run as a child. */
export function inkEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
	const env = {...process.env, ...extra};
	delete env['CI'];
	delete env['CONTINUOUS_INTEGRATION'];
	return env;
}
