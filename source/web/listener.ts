import {isIP} from 'node:net';
import {invalid} from '../core/errors.js';
import type {FileReader} from '../core/context.js';
import type {Settings} from '../core/model.js';
import {REQUESTS_LISTENER} from '../core/server-settings.js';

/** Where `orgctl serve` listens and with what: from the "requests" listener, or `--listen` for a quick try. */
export type ListenPlan = {
	readonly address: string;
	readonly port: number;
	readonly tls: {readonly cert: Buffer; readonly key: Buffer; readonly certPath: string} | undefined;
	/** Where the plan came from, for the start-up line. */
	readonly origin: string;
};

export type ListenOverride = {readonly address: string; readonly port: number};

/** `ADDR:PORT`, `[v6]:PORT` or `:PORT` (all addresses); port 0 lets the system choose. */
export function parseListen(text: string): ListenOverride | undefined {
	const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
	if (!match) return undefined;
	const address = match[1] ?? (match[2] || '0.0.0.0');
	const port = Number(match[3]);
	if (port > 65535) return undefined;
	if (match[1] !== undefined && isIP(address) !== 6) return undefined;
	return {address, port};
}

function readPem(readFile: FileReader, path: string, what: 'certificate' | 'key'): Buffer {
	try {
		return readFile(path, what);
	} catch (error) {
		throw invalid(`The ${what} file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); fix it with orgctl settings ssl set.`);
	}
}

/**
 * The plan for the settings as they are now: the user-requests listener's address, port and SSL
 * (the certificate and key read afresh, so SIGHUP picks up renewed files), `override` replacing
 * address and port. Throws one sentence when there is nothing to listen on.
 */
export function planListen(settings: Settings, readFile: FileReader, override?: ListenOverride): ListenPlan {
	const listener = settings.listeners.find(l => l.name === REQUESTS_LISTENER);
	if (!listener && !override) {
		throw invalid(
			`No listener for user requests: add one with orgctl settings listeners set ${REQUESTS_LISTENER} --port 8080 [--address A] [--ssl on], or try orgctl serve --listen 127.0.0.1:8080.`,
		);
	}
	const ssl = listener?.ssl === true;
	if (ssl && !settings.ssl) throw invalid(`The listener ${REQUESTS_LISTENER} has SSL on but no certificate is set: orgctl settings ssl set --cert F --key F.`);
	const tls = ssl && settings.ssl ? {cert: readPem(readFile, settings.ssl.cert, 'certificate'), key: readPem(readFile, settings.ssl.key, 'key'), certPath: settings.ssl.cert} : undefined;
	return {
		address: override?.address ?? listener!.address,
		port: override?.port ?? listener!.port,
		tls,
		origin: override ? `--listen${listener ? `, SSL as the ${REQUESTS_LISTENER} listener` : ''}` : `listener ${REQUESTS_LISTENER}`,
	};
}
