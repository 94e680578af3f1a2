// The viewer's build: one script and one stylesheet under dist/assets, named
// by a hash of their content (so the server may cache them for a year), no
// source maps, no inline assets. The same sources give the same bytes:
// `.ci/run` rebuilds and fails when dist/ differs from what is committed.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Never inline files as data: URLs: everything comes from 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    reportCompressedSize: false,
    rollupOptions: {
      output: {
        entryFileNames: 'assets/viewer-[hash].js',
        chunkFileNames: 'assets/chunk-[hash].js',
        assetFileNames: 'assets/viewer-[hash][extname]',
      },
    },
  },
});
