#!/usr/bin/env node
import {main} from './app/main.js';

process.exitCode = await main(process.argv.slice(2));
