import {closeSync, constants, fstatSync, openSync, rmSync} from 'node:fs';
import {OwnThread} from './own-thread.js';

/**
 * Copies the store into a commit's temp file on a thread of its own while the commit's JavaScript
 * work (the change, its checks, the patch plan) runs, and hands over the copy's descriptor when the
 * commit asks for it. At 100,000 users the copy and its fsync take 50-60 ms of a commit and the
 * JavaScript work 35-45 ms: one after the other they were most of it.
 *
 * The wait is synchronous (Atomics.wait): between the moment the commit starts the copy and the
 * moment it renames, no other callback of the process runs, as before. Nothing else of the
 * commit's order changes either: the copy is started under the lock, after the re-read that gave
 * the stamp the commit is made on, of the file at the path as a synchronous copy was; the stamp is
 * still compared just before the rename (atomic-file.ts), so a file changed in any way after the
 * re-read, during the copy or after it, is never replaced by the copy.
 *
 * The thread opens the store (without blocking: a FIFO swapped in must not hang it, nor the
 * process's exit) and checks it is a regular file of the size expected, copies it through that
 * descriptor (copy_file_range: in the kernel), opens the copy without following a link,
 * checks it is a regular file with one link and the expected size, makes it 0600 and fsyncs it.
 * The commit opens it again the same way and checks it again (a descriptor a thread opened and
 * another closed makes Node warn), writes its patch into it and fsyncs again: then only the few
 * blocks the patch wrote are flushed.
 */
const IDLE = 0;
const BUSY = 1;
const DONE = 2;

const WORKER = `"use strict";
const {parentPort, workerData} = require('node:worker_threads');
const fs = require('node:fs');
const state = new Int32Array(workerData);
parentPort.on('message', ({slot, from, to, size}) => {
	let source = -1;
	let fd = -1;
	try {
		// The store is opened first, without blocking or following a link, and must be a regular file of the size expected:
		// a FIFO put at the path would block open(2) for good, and a thread stuck in a system call keeps the process from
		// ever exiting (red team). The copy is then made through this very descriptor, not by looking the path up again.
		source = fs.openSync(from, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
		const original = fs.fstatSync(source);
		if (!original.isFile() || original.size !== size) throw new Error('not the store expected');
		if (process.platform === 'linux') {
			fs.copyFileSync('/proc/self/fd/' + source, to, fs.constants.COPYFILE_EXCL);
		} else {
			fd = fs.openSync(to, 'wx', 0o600);
			const chunk = Buffer.allocUnsafe(1 << 20);
			for (let at = 0, read; (read = fs.readSync(source, chunk, 0, chunk.length, at)) > 0; at += read) fs.writeSync(fd, chunk, 0, read, at);
			fs.closeSync(fd);
			fd = -1;
		}
		fs.closeSync(source);
		source = -1;
		fd = fs.openSync(to, fs.constants.O_RDWR | fs.constants.O_NOFOLLOW);
		const stat = fs.fstatSync(fd);
		if (!stat.isFile() || stat.nlink !== 1 || stat.size !== size) throw new Error('not the copy expected');
		fs.fchmodSync(fd, 0o600);
		fs.fsyncSync(fd);
		fs.closeSync(fd);
		fd = -1;
		Atomics.store(state, slot + 1, 1);
	} catch {
		// Whatever this cleanup meets (a folder put at the temp name cannot be removed: rmSync throws), the commit
		// waiting hears at once that there is no copy: a handler that threw would end the thread without an answer, and
		// the commit would wait its whole patience (red team: 30 s, then the raw EISDIR as the commit's error).
		try {
			if (source >= 0) fs.closeSync(source);
			if (fd >= 0) fs.closeSync(fd);
			fs.rmSync(to, {force: true});
		} catch {}
		Atomics.store(state, slot + 1, 0);
	} finally {
		Atomics.store(state, slot, ${DONE});
		Atomics.notify(state, slot);
	}
});
`;

/** How long a commit waits for its copy before it copies on its own (a thread that never answers must not hang the console). */
const PATIENCE_MS = 30_000;

const copier = new OwnThread(WORKER, 2);

/** The copy at `temp`, opened as the thread opened it and checked again; undefined (and removed) if it is not the copy expected. */
function reopen(temp: string, size: number): number | undefined {
	let fd: number | undefined;
	try {
		fd = openSync(temp, constants.O_RDWR | constants.O_NOFOLLOW);
		const stat = fstatSync(fd);
		if (!stat.isFile() || stat.nlink !== 1 || stat.size !== size || (stat.mode & 0o777) !== 0o600) throw new Error('not the copy expected');
		return fd;
	} catch {
		if (fd !== undefined) closeSync(fd);
		removeTemp(temp);
		return undefined;
	}
}

/** Removes a copy not used; what cannot be removed (a folder put at its name) is not this process's to remove, and is left. */
export function removeTemp(temp: string): void {
	try {
		rmSync(temp, {force: true});
	} catch {
		// Not a file this process made.
	}
}

/** A copy under way: {@link take} waits for it and returns the copy's open descriptor (undefined if it failed), {@link drop} discards it. */
export type CopyJob = {
	readonly temp: string;
	take(): number | undefined;
	drop(): void;
};

/** Starts copying `from` (a file of `size` bytes) to `temp` on the copier thread; undefined when there is none to be had (copy on your own). */
export function startCopy(from: string, temp: string, size: number): CopyJob | undefined {
	const running = copier.start();
	if (!running || Atomics.load(running.state, 0) === BUSY) return undefined;
	const {worker, state} = running;
	Atomics.store(state, 0, BUSY);
	worker.postMessage({slot: 0, from, to: temp, size});
	let settled = false;
	const wait = (): number | undefined => {
		if (Atomics.wait(state, 0, BUSY, PATIENCE_MS) === 'timed-out') {
			// Lost: the thread and its copy are given up (the commit copies on its own; later ones too).
			copier.lose();
			void worker.terminate();
			removeTemp(temp);
			return undefined;
		}
		const made = Atomics.load(state, 1) === 1;
		Atomics.store(state, 0, IDLE);
		return made ? reopen(temp, size) : undefined;
	};
	return {
		temp,
		take() {
			if (settled) return undefined;
			settled = true;
			return wait();
		},
		drop() {
			if (settled) return;
			settled = true;
			const fd = wait();
			if (fd !== undefined) closeSync(fd);
			removeTemp(temp);
		},
	};
}
