import {useEffect, useState} from 'react';
import {useStdout} from 'ink';

type Size = {readonly columns: number; readonly rows: number};

function sizeOf(stdout: NodeJS.WriteStream): Size {
	return {columns: stdout.columns || 80, rows: stdout.rows || 24};
}

/** The terminal's size, updated on resize (Ink 6 has no useWindowSize; TUI.md "Versions"). */
export default function useTerminalSize(): Size {
	const {stdout} = useStdout();
	const [size, setSize] = useState(() => sizeOf(stdout));
	useEffect(() => {
		const onResize = () => {
			setSize(sizeOf(stdout));
		};
		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [stdout]);
	return size;
}
