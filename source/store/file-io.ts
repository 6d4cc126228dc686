import {isAscii} from 'node:buffer';
import {randomBytes} from 'node:crypto';
import {chmodSync, closeSync, constants, copyFileSync, futimesSync, fsyncSync, linkSync, openSync, readSync, renameSync, rmSync, writeSync} from 'node:fs';
import {dirname} from 'node:path';
import {StringDecoder} from 'node:string_decoder';
import {tempPathOf} from './layout.js';
import type {LineSource} from './record-lines.js';

/** Pieces are encoded into this much memory and written in one call; the file is never one big string. */
const WRITE_CHUNK = 1 << 20;
const READ_CHUNK = 64 * 1024;
/** Lines longer than this are not our layout (one record per line): stop and read the file whole. */
const LONGEST_LINE = 1 << 22;

/**
 * The lines of an open file, read 64 KB at a time: at 100,000 users the file is 54 MB, and holding
 * it whole (bytes and text) beside the records was most of the peak memory.
 */
export class FileLines implements LineSource {
	// Small enough that each decoded chunk is an ordinary young object: 1 MB chunks went to V8's
	// large-object space, where a 54 MB re-read lingered until a full collection (peak 442 MB).
	private readonly buffer = Buffer.allocUnsafe(READ_CHUNK);
	private position = 0;
	private lines: string[] = [];
	private at = 0;
	private carry = '';
	private done = false;
	private decoder: StringDecoder | undefined;
	/** Where the next line starts, in bytes. */
	private cursor = 0;
	/** Where the line next() returned last starts in the file, and how many bytes it takes (without its "\n"). */
	lineStart = 0;
	lineBytes = 0;
	/** Set once a line held U+FFFD: {@link lineStart} may not say where a line is in the file. */
	lossy = false;

	/** `seen` gets every byte read, in order (validated.ts hashes what is parsed). */
	constructor(
		private readonly fd: number,
		private readonly seen?: (bytes: Buffer) => void,
	) {}

	next(): string | undefined {
		if (!this.fill()) return undefined;
		const line = this.lines[this.at++]!;
		// Until a byte above 127 is seen every character is one byte.
		this.lineStart = this.cursor;
		this.lineBytes = this.decoder ? Buffer.byteLength(line) : line.length;
		this.cursor += this.lineBytes + 1;
		// Bytes that are not UTF-8 decode to U+FFFD, which may take another number of bytes: offsets are then unknown.
		if (this.decoder && line.includes('\uFFFD')) this.lossy = true;
		return line;
	}

	peek(): string | undefined {
		return this.fill() ? this.lines[this.at] : undefined;
	}

	private fill(): boolean {
		while (this.at >= this.lines.length) {
			if (this.done) return false;
			const read = readSync(this.fd, this.buffer, 0, this.buffer.length, this.position);
			this.position += read;
			this.at = 0;
			if (read === 0) {
				this.lines = [this.carry + (this.decoder?.end() ?? '')];
				this.carry = '';
				this.done = true;
				continue;
			}
			const chunk = this.buffer.subarray(0, read);
			this.seen?.(chunk);
			// A chunk may end inside a UTF-8 character: once any non-ASCII byte is seen, decode with state.
			if (!this.decoder && !isAscii(chunk)) this.decoder = new StringDecoder('utf8');
			const parts = (this.carry + (this.decoder ? this.decoder.write(chunk) : chunk.toString('latin1'))).split('\n');
			this.carry = parts.pop()!;
			this.lines = parts;
			if (this.carry.length > LONGEST_LINE) {
				// Not our layout (a file on one line): a line no layout check accepts ends the reading.
				this.lines = ['\u0000'];
				this.done = true;
			}
		}
		return true;
	}
}

/**
 * The lines of a file's text read whole ({@link readText}), with where each lies in the file, as
 * {@link FileLines} gives them (the same lines: the text split at each "\n").
 *
 * For a first read of a file whose lines are kept anyway (RecordLines.keepLines): those lines hold
 * the whole text, which is then one string outside V8's young heap (Node makes a text of more than
 * about 1 MB an external string), instead of 64 KB chunks decoded, joined to the carried line and
 * split, each copied by every scavenge until promoted. At 10,000 users (6.7 MB) that was 13 MB of
 * chunk text allocated and half of it kept, of a heap that grew from 5 to 21 MB while the file was read.
 */
export class TextLines implements LineSource {
	/** Where the next line starts in the text. */
	private at = 0;
	/** Where the next line starts, in bytes. */
	private cursor = 0;
	lineStart = 0;
	lineBytes = 0;
	/** Set once a line held U+FFFD: {@link lineStart} may not say where a line is in the file. */
	lossy = false;

	/** `ascii`: every byte of the file was below 128, so a character is a byte. */
	constructor(
		private readonly text: string,
		private readonly ascii: boolean,
	) {}

	next(): string | undefined {
		const line = this.peek();
		if (line === undefined) return undefined;
		this.at += line.length + 1;
		this.lineStart = this.cursor;
		this.lineBytes = this.ascii ? line.length : Buffer.byteLength(line);
		this.cursor += this.lineBytes + 1;
		if (!this.ascii && line.includes('\uFFFD')) this.lossy = true;
		return line;
	}

	peek(): string | undefined {
		const text = this.text;
		if (this.at > text.length) return undefined;
		const end = text.indexOf('\n', this.at);
		return text.slice(this.at, end < 0 ? text.length : end);
	}
}

/**
 * Reads an open file into one buffer sized by fstat and decodes it once. readFileSync(fd) reads in
 * small blocks into a growing string: 65 ms for 5.4 MB here, against a few for this.
 */
export function readWhole(fd: number, size: number, seen?: (bytes: Buffer) => void): string {
	return readText(fd, size, seen).text;
}

/** {@link readWhole}, and whether every byte was ASCII (a character is then a byte). */
export function readText(fd: number, size: number, seen?: (bytes: Buffer) => void): {text: string; ascii: boolean} {
	let buffer = Buffer.allocUnsafe(size + 1);
	let length = 0;
	for (;;) {
		if (length === buffer.length) {
			const bigger = Buffer.allocUnsafe(buffer.length * 2);
			buffer.copy(bigger, 0, 0, length);
			buffer = bigger;
		}
		const read = readSync(fd, buffer, length, buffer.length - length, length);
		if (read === 0) break;
		length += read;
	}
	const bytes = buffer.subarray(0, length);
	seen?.(bytes);
	// Decoding UTF-8 cost 31 ms for 5.4 MB here; an all-ASCII file (the usual case) is the same as latin1, which is a copy.
	const ascii = isAscii(bytes);
	return {text: ascii ? bytes.toString('latin1') : bytes.toString('utf8'), ascii};
}

/** Writes text pieces through one reused buffer: joining 10,000 lines into one string cost 27 ms here, this 1. */
export class ChunkWriter {
	/** One buffer for every write of the process (writes are synchronous): a new one per commit piled up as garbage. */
	private static shared: Buffer | undefined;
	private readonly buffer = (ChunkWriter.shared ??= Buffer.allocUnsafe(WRITE_CHUNK));
	private used = 0;
	private flushed = 0;

	/** `seen` gets every byte written, in order (validated.ts hashes what is written); `start`: where in the file the first byte goes. */
	constructor(
		private readonly fd: number,
		private readonly seen?: (bytes: Buffer) => void,
		private readonly start = 0,
	) {}

	/** Bytes written so far, flushed or not: where the next piece starts in the file. */
	get position(): number {
		return this.start + this.flushed + this.used;
	}

	write(piece: string): void {
		// A character takes at most 3 bytes in UTF-8 (a surrogate pair 4 for 2 characters).
		if (piece.length * 3 > WRITE_CHUNK - this.used) {
			this.flush();
			if (piece.length * 3 > WRITE_CHUNK) {
				const bytes = Buffer.from(piece);
				this.seen?.(bytes);
				for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done, this.start + this.flushed + done);
				this.flushed += bytes.length;
				return;
			}
		}
		this.used += this.buffer.write(piece, this.used);
	}

	flush(): void {
		this.seen?.(this.buffer.subarray(0, this.used));
		for (let done = 0; done < this.used; ) done += writeSync(this.fd, this.buffer, done, this.used - done, this.start + this.flushed + done);
		this.flushed += this.used;
		this.used = 0;
	}
}

/** `length` bytes of an open file from `offset` (fewer at its end). */
export function readBytes(fd: number, offset: number, length: number): Buffer {
	const buffer = Buffer.allocUnsafe(length);
	let done = 0;
	while (done < length) {
		const read = readSync(fd, buffer, done, length - done, offset + done);
		if (read === 0) break;
		done += read;
	}
	return buffer.subarray(0, done);
}

/** Writes `bytes` at `offset` of an open file. */
export function writeAt(fd: number, bytes: Buffer, offset: number): void {
	for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
}

/** `length` bytes of an open file from `offset`, as text (one line of the store). */
export function readAt(fd: number, offset: number, length: number): string {
	const bytes = readBytes(fd, offset, length);
	return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

export function fsyncDirectory(dir: string): void {
	const fd = openSync(dir, 'r');
	try {
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
}


/**
 * The steps of {@link writeFileAtomically} that touch the disk. Tests hand in steps that fail the
 * way a full disk does (ENOSPC after half the bytes) or that kill the process between two of them.
 */
export type WriteSteps = {
	write(fd: number, bytes: Buffer): void;
	sync(fd: number): void;
	/** Puts the temp file at `target`: over whatever is there (`replace`), or only where nothing is (EEXIST otherwise). */
	place(temp: string, target: string, replace: boolean): void;
};

export const DISK: WriteSteps = {
	write(fd, bytes) {
		for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
	},
	sync: fsyncSync,
	place(temp, target, replace) {
		if (replace) renameSync(temp, target);
		else linkSync(temp, target);
	},
};

/**
 * Puts `content` (text, bytes, or a copy of another file) at `target` so that no reader ever sees it empty or half-written: a temp file
 * beside it (named like every temp file of the store and for this process, so one cleanup finds
 * them all and can tell them from a live writer's), written,
 * fsynced, then renamed over the target (`replace`) or hard-linked into place only if nothing is
 * there yet (`replace: false`: returns false when something was, and leaves that alone). The
 * folder is fsynced after. `mtime` stamps the file with a time from the store's clock, so that
 * its age is later judged on one clock, not the file system's.
 */
export function writeFileAtomically(target: string, content: string | Buffer | {readonly copyOf: string}, options: {store: string; mode: number; replace: boolean; mtime?: Date; steps?: WriteSteps}): boolean {
	const steps = options.steps ?? DISK;
	const temp = tempPathOf(options.store, randomBytes(6).toString('hex'));
	let placed = true;
	try {
		const copy = typeof content === 'string' || Buffer.isBuffer(content) ? undefined : content.copyOf;
		if (copy !== undefined) {
			// The kernel copies (copy_file_range, a reflink where the file system has them): a 54 MB store never passes through memory.
			copyFileSync(copy, temp, constants.COPYFILE_EXCL);
			chmodSync(temp, options.mode);
		}
		const fd = openSync(temp, copy === undefined ? 'wx' : 'r+', options.mode);
		try {
			if (copy === undefined) steps.write(fd, typeof content === 'string' ? Buffer.from(content) : (content as Buffer));
			if (options.mtime) futimesSync(fd, options.mtime, options.mtime);
			steps.sync(fd);
		} finally {
			closeSync(fd);
		}
		try {
			steps.place(temp, target, options.replace);
		} catch (error) {
			if (options.replace || (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			placed = false;
		}
	} finally {
		rmSync(temp, {force: true});
	}
	if (placed) fsyncDirectory(dirname(target));
	return placed;
}
