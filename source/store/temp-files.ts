import {readdirSync, unlinkSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {tempWriterOf} from './layout.js';

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

/** The temp files beside `target` whose writer is gone (or is this process, see cleanStrayTempFiles). */
export function strayTempFiles(target: string): string[] {
	const dir = dirname(target);
	let names: string[];
	try {
		names = readdirSync(dir);
	} catch {
		return [];
	}
	const stray: string[] = [];
	for (const name of names) {
		const pid = tempWriterOf(target, name);
		if (pid === undefined) continue;
		if (pid === 0 || pid === process.pid || !isAlive(pid)) stray.push(join(dir, name));
	}
	return stray;
}

/**
 * Removes temp files whose writer is gone. A temp file is named for its writer's pid: this process
 * writes and renames its own in one synchronous step, so any file with our pid is left over; another
 * live process's file is never touched, whatever its age (a stalled writer may still rename it, and
 * file times come from a clock that need not be ours).
 */
export function cleanStrayTempFiles(target: string): number {
	let removed = 0;
	for (const path of strayTempFiles(target)) {
		try {
			unlinkSync(path);
			removed++;
		} catch {
			// Gone already, or renamed into place by its writer.
		}
	}
	return removed;
}
