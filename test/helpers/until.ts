/** Whether `condition` holds within `ms`, looked at every `step` ms (a process's output, a file, a state in /proc). */
export async function until(condition: () => boolean, ms = 5000, step = 20): Promise<boolean> {
	for (const end = Date.now() + ms; !condition() && Date.now() < end;) {
		await new Promise(resolve => setTimeout(resolve, step));
	}

	return condition();
}
