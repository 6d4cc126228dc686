// Ink draws at most `maxFps` frames a second through es-toolkit's `throttle`, which is a debounce
// with a maximum wait: a change that comes in while the window after a frame is open restarts the
// window, so it is drawn a whole window after it came in, not when the window closes. At the
// console's 120 frames a second (9 ms) a key that arrived 5 ms after a frame waited 9 ms more
// instead of 4: in the key-to-frame run of bench/console.ts (each key sent when the frame of the one
// before is on the screen) every other key paid it, which made the p95.
//
// This esbuild plugin makes the bundled copy pace frames as maxFps says: a change is drawn at once
// when the last frame began at least a window ago, else when that window ends; changes that come
// in meanwhile are drawn together in that one frame. It fails the build if Ink changes, so the
// change is never silently lost.
import {readFile} from 'node:fs/promises';

const THROTTLED = `            const throttled = throttle(this.onRender, renderThrottleMs, {
                leading: true,
                trailing: true,
            });
`;

const PACED = `            const throttled = paceFrames(this.onRender, renderThrottleMs);
`;

const PACER = `
/** At most one frame per \`intervalMs\`, each drawn as soon as that allows (orgctl's ink-frame-pacing). */
function paceFrames(render, intervalMs) {
    let last = -Infinity;
    let timer;
    const draw = () => {
        timer = undefined;
        last = performance.now();
        render();
    };
    const paced = () => {
        if (timer !== undefined) return;
        const wait = last + intervalMs - performance.now();
        if (wait <= 0) draw();
        else timer = setTimeout(draw, wait);
    };
    paced.flush = () => {
        if (timer === undefined) return;
        clearTimeout(timer);
        draw();
    };
    paced.cancel = () => {
        if (timer === undefined) return;
        clearTimeout(timer);
        timer = undefined;
    };
    return paced;
}
`;

const ANCHOR = "import { throttle } from 'es-toolkit/compat';\n";

export const inkFramePacing = {
	name: 'ink-frame-pacing',
	setup(build) {
		build.onLoad({filter: /[\\/]ink[\\/]build[\\/]ink\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			if (source.split(THROTTLED).length !== 2 || source.split(ANCHOR).length !== 2) {
				throw new Error(`ink-frame-pacing: ${args.path} changed; check how Ink paces its frames now, and drop or update this plugin.`);
			}
			return {contents: source.replace(ANCHOR, () => ANCHOR + PACER).replace(THROTTLED, () => PACED), loader: 'js'};
		});
	},
};
