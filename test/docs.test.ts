import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The documentation's TypeScript compiles: every ```ts block of README.md and docs/*.md is
 * written to a file of its own and all of them are type-checked in one `tsc --noEmit` run,
 * with `nestjs-cognito-lowlevel` (and `/testing`) resolved to this repository's `lib/`. A
 * snippet that drifts from the code fails here, named by its page and starting line.
 *
 * Conventions for writers:
 * - A ```ts block is a complete module, imports included. Anything else (shell, .env, output,
 *   an intentionally partial fragment) takes another fence language: bash, dotenv, text, …
 * - A block whose first line is a comment naming a file (`// src/app.module.ts`) is written
 *   under that name, so other blocks of the same page can import it (`./app.module.js`).
 *   Each page gets its own directory.
 * - A page may import the reader's own code it does not show: `./login.handler.js`
 *   (`LoginHandler`, a callback handler), `./users.service.js` (`UsersService` with `upsert` and
 *   `findOrCreate`) and `./users.module.js` (`UsersModule`). Stand-ins are written beside every
 *   snippet, unless a block of the page names a file so itself.
 *
 * - Tests are written for Jest and Vitest as `nest new` sets them up: `describe`, `it`,
 *   `beforeAll`, `afterAll` and `expect` as globals, never imported (declared for the snippets by
 *   JEST_VITEST_GLOBALS below), in files named `*.spec.ts` or `test/*.e2e-spec.ts`, the only
 *   names those runners pick up.
 * - No top-level `await`: it does not compile in a CommonJS app (TS1309), and the README says a
 *   CommonJS app only drops the `.js` suffixes. Wrap it as `nest new`'s main.ts does
 *   (`async function bootstrap() { … } void bootstrap();`), or move it into `beforeAll`.
 *
 * Relative links of these pages are checked too: the file exists, and so does the heading an
 * `#anchor` names.
 */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Snippet {
  page: string; // relative to ROOT, e.g. docs/guards.md
  line: number; // 1-based line of the first line of code (after the fence)
  file: string; // path of the written file, relative to the page's directory
  code: string;
}

function pages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

interface Block {
  lang: string;
  line: number;
  code: string;
}

/** Fenced code blocks (``` or ~~~, three or more), with the line their code starts on. */
function fencedBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[index]);
    if (open === null) continue;
    const [, fence, lang] = open;
    const body: string[] = [];
    let end = index + 1;
    while (end < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[end])) body.push(lines[end++]);
    blocks.push({ lang: lang.toLowerCase(), line: index + 2, code: body.join('\n') });
    index = end;
  }
  return blocks;
}

function snippets(): Snippet[] {
  const found: Snippet[] = [];
  for (const page of pages()) {
    for (const block of fencedBlocks(readFileSync(join(ROOT, page), 'utf8'))) {
      if (block.lang !== 'ts' && block.lang !== 'typescript') continue;
      const named = /^\/\/\s*([\w./-]+\.ts)\s*$/.exec(block.code.split('\n')[0]);
      found.push({ page, line: block.line, file: named?.[1] ?? `snippet-line-${block.line}.ts`, code: block.code });
    }
  }
  return found;
}

const USERS_SERVICE = `import { Injectable } from '@nestjs/common';

/** Stand-in for the reader's own user store. */
@Injectable()
export class UsersService {
  async upsert(sub: string, email?: string): Promise<{ id: string }> {
    return { id: sub + (email ?? '') };
  }
  async findOrCreate(sub: string, email?: string): Promise<{ id: string }> {
    return this.upsert(sub, email);
  }
}
`;
const USERS_MODULE = `import { Module } from '@nestjs/common';
import { UsersService } from './users.service.js';

@Module({ providers: [UsersService], exports: [UsersService] })
export class UsersModule {}
`;

const LOGIN_HANDLER = `import { Injectable } from '@nestjs/common';
import type { CognitoCallbackHandler, CognitoLoginResult } from 'nestjs-cognito-lowlevel';

/** Stand-in for the reader's own callback handler. */
@Injectable()
export class LoginHandler implements CognitoCallbackHandler {
  onSuccess(result: CognitoLoginResult) {
    return { redirectTo: result.returnTo ?? '/' };
  }
}
`;
const STAND_INS = [
  ['login.handler.ts', LOGIN_HANDLER],
  ['users.service.ts', USERS_SERVICE],
  ['users.module.ts', USERS_MODULE],
] as const;

/**
 * The test globals Jest and Vitest (`globals: true`, as `nest new` configures it) give every test
 * file, typed loosely: enough for the snippets to type-check without either package installed.
 */
const JEST_VITEST_GLOBALS = `// Written by test/docs.test.ts: the globals of Jest and of Vitest with globals: true.
declare function describe(name: string, body: () => void): void;
declare function it(name: string, body: () => unknown, timeout?: number): void;
declare function beforeAll(body: () => unknown, timeout?: number): void;
declare function afterAll(body: () => unknown, timeout?: number): void;
declare function beforeEach(body: () => unknown, timeout?: number): void;
declare function afterEach(body: () => unknown, timeout?: number): void;
interface DocsMatchers<R> {
  toBe(expected: unknown): R;
  toEqual(expected: unknown): R;
  toStrictEqual(expected: unknown): R;
  toMatch(expected: string | RegExp): R;
  toBeDefined(): R;
  toBeUndefined(): R;
  toBeNull(): R;
  toBeTruthy(): R;
  toBeFalsy(): R;
  toContain(item: unknown): R;
  toHaveLength(length: number): R;
  toBeGreaterThan(value: number | bigint): R;
  toBeLessThan(value: number | bigint): R;
  toThrow(expected?: string | RegExp | Error | (abstract new (...args: never[]) => unknown)): R;
}
interface DocsExpectation extends DocsMatchers<void> {
  not: DocsMatchers<void>;
  resolves: DocsMatchers<Promise<void>> & { not: DocsMatchers<Promise<void>> };
  rejects: DocsMatchers<Promise<void>> & { not: DocsMatchers<Promise<void>> };
}
declare function expect(actual: unknown): DocsExpectation;
`;

/** Lines of a snippet that `await` outside any function: TS1309 once the app is CommonJS. */
function topLevelAwaits(code: string): number[] {
  const source = ts.createSourceFile('snippet.ts', code, ts.ScriptTarget.Latest, true);
  const lines: number[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node)) return;
    if (ts.isAwaitExpression(node) || (ts.isForOfStatement(node) && node.awaitModifier !== undefined)) {
      lines.push(source.getLineAndCharacterOfPosition(node.getStart()).line);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return lines;
}

const pageDir = (page: string) => page.replace(/\.md$/, '').replace(/[^\w-]+/g, '_');

/**
 * Not under mutation testing: StrykerJS's sandbox copies no docs/, and a mutant of lib/ never
 * changes what the documentation's types are.
 */
const underStryker = process.env.STRYKER_MUTATOR_WORKER !== undefined;

describe('documentation', { skip: underStryker && 'mutation testing: the sandbox holds no docs' }, () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'docs-snippets-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('every ```ts block of README.md and docs/*.md type-checks against lib/', () => {
    const all = snippets();
    assert.ok(all.length >= 30, `expected the pages to hold TypeScript snippets, found ${all.length}`);
    const byPath = new Map<string, Snippet>();
    for (const snippet of all) {
      const path = join(work, pageDir(snippet.page), snippet.file);
      const clash = byPath.get(path);
      assert.equal(clash, undefined, `${snippet.page}:${snippet.line} and line ${clash?.line} both name the file ${snippet.file}`);
      byPath.set(path, snippet);
      mkdirSync(dirname(path), { recursive: true });
      // `export {}` keeps a block without imports a module of its own (no clashes between pages).
      writeFileSync(path, `${snippet.code}\nexport {};\n`);
    }
    for (const path of byPath.keys()) {
      for (const [name, text] of STAND_INS) {
        const stand = join(dirname(path), name);
        if (!byPath.has(stand) && !existsSync(stand)) writeFileSync(stand, text);
      }
    }
    writeFileSync(join(work, 'jest-vitest-globals.d.ts'), JEST_VITEST_GLOBALS);
    writeFileSync(join(work, 'package.json'), JSON.stringify({ type: 'module' }));
    symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir');
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023'],
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          useDefineForClassFields: false,
          skipLibCheck: true,
          esModuleInterop: true,
          noImplicitOverride: true,
          types: ['node'],
          noEmit: true,
          paths: {
            'nestjs-cognito-lowlevel': [join(ROOT, 'lib', 'index.ts')],
            'nestjs-cognito-lowlevel/testing': [join(ROOT, 'lib', 'testing', 'index.ts')],
          },
        },
        include: ['**/*.ts'],
        exclude: ['node_modules'],
      }),
    );

    const run = spawnSync(process.execPath, [TSC, '-p', join(work, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8' });
    assert.ok(run.error === undefined, `tsc did not run: ${run.error?.message}`);
    const output = `${run.stdout}${run.stderr}`;
    // Point each error at the page and line it comes from.
    const located = output
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const match = /^(.+?\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
        if (match === null) return line;
        const [, file, row, column, message] = match;
        const snippet = byPath.get(resolve(work, file));
        if (snippet === undefined) return `${relative(ROOT, resolve(work, file))}:${row}:${column}: ${message}`;
        return `${snippet.page}:${snippet.line + Number(row) - 1}:${column} (the block starting at line ${snippet.line}): ${message}`;
      });
    assert.equal(run.status, 0, `The documentation's TypeScript does not compile:\n${located.join('\n')}`);
  });

  it('no ```ts block awaits at its top level, which a CommonJS app cannot compile', () => {
    const found = snippets().flatMap((snippet) => topLevelAwaits(snippet.code).map((row) => `${snippet.page}:${snippet.line + row}`));
    assert.deepEqual(found, [], 'top-level await: wrap it in an async function, or move it into beforeAll');
  });

  it('test snippets use the globals of Jest and Vitest, in files their `nest new` configurations run', () => {
    const wrong: string[] = [];
    for (const snippet of snippets()) {
      const where = `${snippet.page}:${snippet.line} (${snippet.file})`;
      if (/from 'node:(test|assert)/.test(snippet.code)) wrong.push(`${where}: imports node:test or node:assert`);
      if (/from '(vitest|@jest\/globals)'/.test(snippet.code)) wrong.push(`${where}: imports the globals`);
      const isTest = /^\s*(describe|it|test)\(/m.test(snippet.code);
      const unit = /(^|\/)[\w.-]+\.spec\.ts$/.test(snippet.file) && !snippet.file.includes('e2e');
      const e2e = /^test\/[\w.-]+\.e2e-spec\.ts$/.test(snippet.file);
      if (isTest && !unit && !e2e) wrong.push(`${where}: name it <name>.spec.ts (unit) or test/<name>.e2e-spec.ts (e2e)`);
    }
    assert.deepEqual(wrong, []);
  });

  it('the settings table of docs/configuration.md lists every option with its environment variable, and nothing else', async () => {
    const { COGNITO_ENV_NAMES } = await import('../lib/index.js');
    const text = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    const rows = new Map([...text.matchAll(/^\| `(\w+)` \| `(\w+)`/gm)].map(([, option, env]) => [option, env]));
    const missing = Object.entries(COGNITO_ENV_NAMES)
      .filter(([option, env]) => rows.get(option) !== env)
      .map(([option, env]) => `${option} (${env})`);
    assert.deepEqual(missing, [], 'options missing from the settings table, or with another environment variable');
    const unknown = [...rows.keys()].filter((option) => !(option in COGNITO_ENV_NAMES));
    assert.deepEqual(unknown, [], 'rows of the settings table that are not options');
  });

  it('docs/local-cognito.md documents every flag of the local-cognito command', () => {
    const help = spawnSync(process.execPath, [join(ROOT, 'build', 'lib', 'cli.js'), 'local-cognito', '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    const flags = [...new Set([...help.stdout.matchAll(/(?<![\w-])--[a-z][\w-]*/g)].map(([flag]) => flag))];
    assert.ok(flags.length >= 10, `expected the usage text to list the flags, found ${flags.join(' ')}`);
    const page = readFileSync(join(ROOT, 'docs', 'local-cognito.md'), 'utf8');
    assert.deepEqual(flags.filter((flag) => !page.includes(`\`${flag}`)), [], 'flags missing from docs/local-cognito.md');
  });

  it('relative links of README.md and docs/*.md point at files and headings that exist', () => {
    const broken: string[] = [];
    for (const page of pages()) {
      const text = readFileSync(join(ROOT, page), 'utf8');
      // Links outside code: drop fenced blocks and inline code first.
      const prose = text.replace(/^ {0,3}(`{3,}|~{3,})[\s\S]*?^ {0,3}\1\s*$/gm, '').replace(/`[^`\n]*`/g, '');
      for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [path, anchor] = target.split('#');
        const file = path === '' ? join(ROOT, page) : resolve(dirname(join(ROOT, page)), path);
        if (!existsSync(file)) {
          broken.push(`${page}: ${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && file.endsWith('.md') && !anchors(readFileSync(file, 'utf8')).has(anchor)) {
          broken.push(`${page}: ${target} (no heading with that anchor)`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });
});

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  const withoutCode = markdown.replace(/^ {0,3}(`{3,}|~{3,})[\s\S]*?^ {0,3}\1\s*$/gm, '');
  for (const [, heading] of withoutCode.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = heading
      .toLowerCase()
      .replace(/<[^>]+>/g, '')
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}
