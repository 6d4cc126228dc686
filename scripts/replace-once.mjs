// What every build-time patch of a library does (scripts/ink-*.mjs, string-width-once.mjs): each
// piece of the library's source it changes must be there exactly once, or the build fails, so a
// change in the library is never silently lost.

/**
 * `source` with each `[from, to]` of `replacements` made, in order; throws, naming `plugin`, the
 * file at `path` and what to check (`what`), when a `from` is not there exactly once.
 */
export function replaceOnce(source, replacements, {plugin, path, what}) {
	for (const [from, to] of replacements) {
		if (source.split(from).length !== 2) throw new Error(`${plugin}: ${path} changed; check ${what} now, and drop or update this plugin.`);
		source = source.replace(from, () => to);
	}
	return source;
}
