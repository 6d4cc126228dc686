import {watch, type FSWatcher} from 'node:fs';
import {basename, dirname} from 'node:path';

/** Where the file system sends no events (NFS, some container mounts), a stat this often finds changes instead. */
export const POLL_MS = 2000;

/**
 * Calls `signal` when the file at `path` may have changed: on an inotify event for its name in its
 * folder (a commit renames a new file into place, so the folder is watched, not the file's inode),
 * and every POLL_MS as a fallback. Each signal costs the caller a stat; nothing here reads the file.
 * Neither the watch nor the timer keeps the process alive. Returns the stop.
 */
export function watchFile(path: string, signal: () => void): () => void {
	const name = basename(path);
	let watcher: FSWatcher | undefined;
	try {
		watcher = watch(dirname(path), {persistent: false}, (_event, file) => {
			// No name (some platforms) could be anything, so it counts.
			if (file === null || file === name) signal();
		});
		// A watch that fails later (the folder removed, inotify limits) leaves the timer to do the work.
		watcher.on('error', () => {
			watcher?.close();
			watcher = undefined;
		});
	} catch {
		watcher = undefined;
	}
	const timer = setInterval(signal, POLL_MS);
	timer.unref();
	return () => {
		clearInterval(timer);
		watcher?.close();
	};
}
