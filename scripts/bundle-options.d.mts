import type { BuildOptions } from 'esbuild';

export function bundleOptions(bundle: { entry: string; outfile: string; executable?: boolean }): BuildOptions;
