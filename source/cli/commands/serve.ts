import type {Command} from 'commander';
import {isOrgError} from '../../core/errors.js';
import {inert} from '../../core/inert.js';
import {UsageError, type CliContext} from '../context.js';

/** `orgctl serve [--listen ADDR:PORT]`: the web pages that mailed links open, in the foreground. */
export function registerServeCommands(program: Command, cli: CliContext): void {
	program
		.command('serve')
		.description('serve the invitation and sign-up pages on the "requests" listener (foreground; SIGHUP reloads, SIGTERM stops)')
		.option('--listen <addr:port>', 'listen here instead of the requests listener, e.g. 127.0.0.1:8080 (SSL as that listener)')
		.action(async (options: {listen?: string}) => {
			// The web stack (Fastify, React's server renderer) loads only for this command.
			const [{serve}, {parseListen}] = await Promise.all([import('../../web/serve.js'), import('../../web/listener.js')]);
			const listen = options.listen === undefined ? undefined : parseListen(options.listen);
			if (options.listen !== undefined && !listen) throw new UsageError(`--listen takes ADDR:PORT (e.g. 127.0.0.1:8080 or [::1]:8443), not "${options.listen}".`);
			const ctx = await cli.ctx();
			// One line each, inert: a request line quotes what the client sent, an error what it was about.
			const log = (line: string) => process.stderr.write(`${inert(line)}\n`);
			// The signals are ours from before the listener opens: a SIGHUP that arrives while it starts
			// (a test or a certificate renewal hook that saw the "listening" line) would otherwise end
			// the process with the default action. What arrives before it is ready is done once it is.
			let server: Awaited<ReturnType<typeof serve>> | undefined;
			let pendingReload = false;
			let pendingStop: string | undefined;
			let stop: (signal: string) => void = signal => (pendingStop ??= signal);
			const reload = () => {
				if (!server) {
					pendingReload = true;
					return;
				}
				server.reload().catch((error: unknown) => log(`orgctl serve: reload failed, still serving as before: ${isOrgError(error) ? error.message : String(error)}`));
			};
			const onTerm = () => stop('SIGTERM');
			const onInt = () => stop('SIGINT');
			process.on('SIGHUP', reload);
			process.once('SIGTERM', onTerm);
			process.once('SIGINT', onInt);
			try {
				server = await serve(ctx, {listen, log});
			} catch (error) {
				process.off('SIGHUP', reload);
				process.off('SIGTERM', onTerm);
				process.off('SIGINT', onInt);
				throw error;
			}
			const running = server;
			await new Promise<void>(resolve => {
				stop = (signal: string) => {
					log(`orgctl serve: ${signal}: stopping.`);
					process.off('SIGHUP', reload);
					running.close().then(resolve, resolve);
				};
				if (pendingStop) stop(pendingStop);
				else if (pendingReload) reload();
			});
		});
}
