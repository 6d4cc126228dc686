import type {Plugin} from 'esbuild';

export declare const LIMIT: number;
export declare const inkBoundedCaches: Plugin;
