import type {Plugin} from 'esbuild';

export declare const SIMPLE: string;
export declare const inkFirstFrame: Plugin;
