/** A function giving what `make` returns, made on its first call and the same value ever after (work done only if it is needed). */
export function once<T>(make: () => T): () => T {
	let made: {readonly value: T} | undefined;
	return () => (made ??= {value: make()}).value;
}
