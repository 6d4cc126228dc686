// The part of fs-native-extensions (holepunch; prebuilt, no install script) that the store lock uses.
declare module 'fs-native-extensions' {
	/** An exclusive open-file-description lock on the whole file; false if another description holds one. */
	export function tryLock(fd: number): boolean;
	/** Waits (in a thread of the pool) until the exclusive lock is granted. */
	export function waitForLock(fd: number): Promise<void>;
	export function unlock(fd: number): void;
}
