import type {Plugin} from 'esbuild';

export declare const inkFirstFrame: Plugin;
