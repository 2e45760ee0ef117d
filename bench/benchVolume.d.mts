export function fillVolume(dir: string, mib: number): { files: number };
