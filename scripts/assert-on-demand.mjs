// The copies of signal-exit (3.x) that Ink and restore-cursor (Ink's cursor hiding) bring each
// require node:assert as they load, for one check made when a handler is added: that the handler
// is a function. Loading node:assert is 0.4 ms of a console start (five of Node's internal modules,
// compiled), and nothing in the console needs it before. This esbuild plugin, for the console's
// CommonJS bundle, makes each require it only when that check fails. It fails the build if
// signal-exit changes, so the change is never silently lost.
import {readFile} from 'node:fs/promises';
import {replaceOnce} from './replace-once.mjs';

const REPLACEMENTS = [
	["  var assert = require('assert')\n", ''],
	// assert.equal compares with ==: it throws exactly when this test holds, and then throws the same error.
	["    assert.equal(typeof cb, 'function', 'a callback must be provided for exit handler')\n", "    if (typeof cb != 'function') require('assert').equal(typeof cb, 'function', 'a callback must be provided for exit handler')\n"],
];

export const assertOnDemand = {
	name: 'assert-on-demand',
	setup(build) {
		build.onLoad({filter: /[\\/]signal-exit[\\/]index\.js$/}, async args => {
			const source = await readFile(args.path, 'utf8');
			// The require and the one check (each replaced once below), and no other use.
			if (source.split('assert').length !== 4) throw new Error(`assert-on-demand: ${args.path} changed; check how signal-exit uses node:assert now, and drop or update this plugin.`);
			return {contents: replaceOnce(source, REPLACEMENTS, {plugin: 'assert-on-demand', path: args.path, what: 'how signal-exit uses node:assert'}), loader: 'js'};
		});
	},
};
