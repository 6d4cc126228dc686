import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import type {Socket} from 'node:net';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {simpleParser} from 'mailparser';
import {SMTPServer, type SMTPServerOptions} from 'smtp-server';

/** One message as the server received it: the SMTP envelope and the parsed content. */
export type ReceivedMail = {
	readonly envelopeFrom: string;
	readonly envelopeTo: readonly string[];
	readonly from: string;
	readonly to: string;
	readonly subject: string;
	readonly text: string;
	readonly html: string;
	readonly raw: string;
};

/**
 * How the server answers. `accept` takes mail; `reject4xx` / `reject5xx` refuse RCPT TO with that
 * code; `rejectSender` refuses MAIL FROM with 553; `hang` accepts the connection and never greets
 * (a timeout); `close` drops every connection.
 */
export type SmtpMode = 'accept' | 'reject4xx' | 'reject5xx' | 'rejectSender' | 'hang' | 'close';

/** A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
export type TestCertificate = {readonly cert: string; readonly key: string; readonly certFile: string; readonly dir: string};

export function makeCertificate(): TestCertificate {
	const dir = mkdtempSync(join(tmpdir(), 'orgctl-cert-'));
	const certFile = join(dir, 'cert.pem');
	const keyFile = join(dir, 'key.pem');
	execFileSync(
		'openssl',
		['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
		{stdio: 'ignore'},
	);
	return {cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, dir};
}

/**
 * A real SMTP server on 127.0.0.1 (random port) that collects what it receives. `tls: 'implicit'`
 * speaks TLS from the first byte; `tls: 'starttls'` offers STARTTLS; both with `certificate`.
 */
export class TestSmtpServer {
	readonly messages: ReceivedMail[] = [];
	mode: SmtpMode = 'accept';
	port = 0;
	/** Reason text used for rejections, so tests can check it travels to the mail status. */
	reason4xx = 'Mailbox busy, try again later';
	reason5xx = 'No such user here';
	/**
	 * Text the server's replies carry on the wire in place of a placeholder: smtp-server replaces
	 * control characters in what it sends, and a hostile server would not, so a test puts
	 * `HOSTILE-BYTES` in `reason5xx` and the escape sequence here (plain connections only).
	 */
	rawReplies: Array<readonly [placeholder: string, bytes: string]> = [];
	reasonSender = 'Sender address rejected: not owned by you';
	private readonly server: SMTPServer;
	private readonly sockets = new Set<Socket>();
	private waiters: Array<() => void> = [];

	/** Messages received, parsed or not (benchmarks skip parsing so the server costs little CPU). */
	received = 0;
	private readonly parse: boolean;

	constructor(options: {tls?: 'implicit' | 'starttls'; certificate?: TestCertificate; auth?: {user: string; pass: string}; parse?: boolean} = {}) {
		this.parse = options.parse !== false;
		const base: SMTPServerOptions = {
			secure: options.tls === 'implicit',
			disabledCommands: [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])],
			authOptional: !options.auth,
			allowInsecureAuth: true,
			logger: false,
			// Tiny delays keep tests fast; a real server would insist on them.
			closeTimeout: 100,
			disableReverseLookup: true,
			onConnect: (_session, callback) => {
				// Hang: never greet, so the client's greeting timeout fires.
				if (this.mode !== 'hang') callback();
			},
			onAuth: (auth, _session, callback) => {
				if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, {user: auth.username});
				callback(new Error('Invalid username or password'));
			},
			onMailFrom: (_address, _session, callback) => {
				if (this.mode === 'rejectSender') return callback(Object.assign(new Error(this.reasonSender), {responseCode: 553}));
				callback();
			},
			onRcptTo: (_address, _session, callback) => {
				if (this.mode === 'reject4xx') return callback(Object.assign(new Error(this.reason4xx), {responseCode: 451}));
				if (this.mode === 'reject5xx') return callback(Object.assign(new Error(this.reason5xx), {responseCode: 550}));
				callback();
			},
			onData: (stream, session, callback) => {
				const chunks: Buffer[] = [];
				stream.on('data', (chunk: Buffer) => chunks.push(chunk));
				stream.on('end', () => {
					this.received++;
					if (options.parse === false) {
						for (const wake of this.waiters.splice(0)) wake();
						return callback();
					}
					const raw = Buffer.concat(chunks);
					simpleParser(raw)
						.then(parsed => {
							this.messages.push({
								envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
								envelopeTo: session.envelope.rcptTo.map(r => r.address),
								from: parsed.from?.text ?? '',
								to: [parsed.to ?? []].flat().map(a => a.text).join(', '),
								subject: parsed.subject ?? '',
								text: parsed.text ?? '',
								html: typeof parsed.html === 'string' ? parsed.html : '',
								raw: raw.toString('utf8'),
							});
							for (const wake of this.waiters.splice(0)) wake();
							callback();
						})
						.catch(callback);
				});
			},
		};
		if (options.certificate) {
			base.key = options.certificate.key;
			base.cert = options.certificate.cert;
		}
		this.server = new SMTPServer(base);
		this.server.server.prependListener('connection', (socket: Socket) => {
			this.sockets.add(socket);
			const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
			socket.write = ((chunk: unknown, ...rest: unknown[]) => {
				if (this.rawReplies.length === 0 || (typeof chunk !== 'string' && !Buffer.isBuffer(chunk))) return write(chunk, ...rest);
				let text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
				for (const [placeholder, bytes] of this.rawReplies) text = text.split(placeholder).join(bytes);
				return write(Buffer.from(text, 'utf8'), ...rest.filter(r => typeof r === 'function'));
			}) as typeof socket.write;
			socket.on('close', () => this.sockets.delete(socket));
			// Close: the connection drops before any reply.
			if (this.mode === 'close') socket.destroy();
		});
		this.server.on('error', () => undefined);
	}

	/** Starts listening on 127.0.0.1 at a random port (or the given one, to come back after `stop`). */
	async start(port = 0): Promise<this> {
		await new Promise<void>((resolve, reject) => {
			this.server.server.once('error', reject);
			this.server.listen(port, '127.0.0.1', () => resolve());
		});
		const address = this.server.server.address();
		if (address && typeof address === 'object') this.port = address.port;
		return this;
	}

	/** Stops listening and drops open connections: afterwards connections are refused. */
	async stop(): Promise<void> {
		for (const socket of this.sockets) socket.destroy();
		await new Promise<void>(resolve => this.server.close(() => resolve()));
	}

	/** Resolves once `count` messages have arrived (or rejects after `ms`). */
	async waitForMessages(count: number, ms = 10_000): Promise<readonly ReceivedMail[]> {
		const deadline = Date.now() + ms;
		const arrived = () => (this.parse ? this.messages.length : this.received);
		while (arrived() < count) {
			const left = deadline - Date.now();
			if (left <= 0) throw new Error(`expected ${count} messages, got ${this.received}`);
			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, left);
				this.waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
		return this.messages;
	}
}

/** Removes a certificate folder made by makeCertificate. */
export function removeCertificate(certificate: TestCertificate): void {
	rmSync(certificate.dir, {recursive: true, force: true});
}
