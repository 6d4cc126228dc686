// The floor of the console figures (DESIGN §8): an Ink "hello" bundled as the console is, with the
// console's render options, left open until `q`. What it costs at rest is what Ink and Node cost;
// what it costs to draw the next number after a key is what one frame costs.
import {useState} from 'react';
import {render, Text, useApp, useInput} from 'ink';

function Hello() {
	const {exit} = useApp();
	const [keys, setKeys] = useState(0);
	useInput(input => {
		if (input === 'q') exit();
		else setKeys(n => n + 1);
	});
	return <Text>hello {keys}</Text>;
}

const instance = render(<Hello />, {exitOnCtrlC: false, incrementalRendering: true, maxFps: 240});
process.stdout.write('\u001b]2;orgctl:ready:hello\u0007');
await instance.waitUntilExit();
