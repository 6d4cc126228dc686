// Ink 6.8's incremental renderer moves the cursor up one line too few when the previous frame ended
// with a newline, which every frame does when the root is `rows - 1` tall (TUI.md pitfall 1): each
// redraw then lands one line low and the screen scrolls. This esbuild plugin corrects that one
// expression in the bundled copy; it fails the build if Ink changes, so the fix is never silently lost.
import {readFile} from 'node:fs/promises';

const BROKEN = 'buffer.push(ansiEscapes.cursorUp(previousVisible - 1));';
const FIXED = "buffer.push(ansiEscapes.cursorUp(previousVisible - (previousOutput.endsWith('\\n') ? 0 : 1)));";

export const inkIncrementalFix = {
	name: 'ink-incremental-fix',
	setup(build) {
		build.onLoad({filter: /[\\/]ink[\\/]build[\\/]log-update\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			if (!source.includes(BROKEN)) throw new Error(`ink-incremental-fix: ${args.path} changed; check whether Ink fixed the incremental cursor and drop this plugin.`);
			return {contents: source.replace(BROKEN, FIXED), loader: 'js'};
		});
	},
};
