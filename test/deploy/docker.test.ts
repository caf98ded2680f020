// deploy/docker: no Docker engine runs here, so the images are checked by
// reading the Dockerfiles (dockerfile-ast) against the repository: what they
// copy exists and survives their .dockerignore, what they run exists, the
// builder installs what scripts/setup.sh installs, and the runtime starts a
// `vigil` subcommand that `vigil help` lists.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DockerfileParser, type Dockerfile, type Instruction, type JSONInstruction } from 'dockerfile-ast';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../../common/repo';
import { controlPlaneAgentFiles, importGraph } from '../helpers/imports';

const IMAGES = ['agent', 'controlplane'] as const;
type Image = (typeof IMAGES)[number];
const INSTALL = '/opt/vigil';

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

interface ParsedDockerfile {
  file: string;
  args: Map<string, string>;
  stages: Stage[];
}

function parseDockerfile(image: Image): ParsedDockerfile {
  const file = path.join(repoRoot(), 'deploy', 'docker', `Dockerfile.${image}`);
  const df: Dockerfile = DockerfileParser.parse(fs.readFileSync(file, 'utf8'));
  const args = new Map<string, string>();
  for (const a of df.getInitialARGs()) {
    const [k, v] = a.getArgumentsContent()?.split('=') ?? [];
    if (k && v !== undefined) args.set(k, v);
  }
  const stages: Stage[] = [];
  for (const i of df.getInstructions()) {
    if (i.getKeyword() === 'FROM') {
      const words = (i.getArgumentsContent() ?? '').split(/\s+/);
      const image = words[0].replace(/\$\{(\w+)\}/g, (_m, k: string) => args.get(k) ?? `\${${k}}`);
      stages.push({ name: words[2] ?? String(stages.length), image, instructions: [] });
    } else if (stages.length) {
      stages[stages.length - 1].instructions.push(i);
    }
  }
  return { file, args, stages };
}

const words = (i: Instruction): string[] => i.getArguments().map((a) => a.getValue());
const flag = (i: Instruction, name: string): string | undefined =>
  (i as Instruction & { getFlags?: () => Array<{ getName(): string; getValue(): string | null }> }).getFlags?.().find((f) => f.getName() === name)?.getValue() ?? undefined;
const jsonForm = (i: Instruction): string[] => (i as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
const stage = (d: ParsedDockerfile, name: string): Stage => {
  const s = d.stages.find((x) => x.name === name);
  assert.ok(s, `${path.basename(d.file)} has a stage "${name}"`);
  return s;
};
/** Shell commands of a RUN, split at &&, || and ; (the Dockerfiles use no subshells). */
const commands = (i: Instruction): string[][] =>
  (i.getArgumentsContent() ?? '')
    .split(/&&|\|\||;/)
    .map((c) => c.trim().split(/\s+/).filter(Boolean))
    .filter((c) => c.length > 0);
/** `apt-get install` package names in a stage. */
const aptPackages = (s: Stage): string[] =>
  s.instructions
    .filter((i) => i.getKeyword() === 'RUN')
    .flatMap(commands)
    .map((c) => c.filter((w) => !/^\w+=/.test(w)))
    .filter((c) => c[0] === 'apt-get' && c.includes('install'))
    .flatMap((c) => c.slice(c.indexOf('install') + 1).filter((w) => !w.startsWith('-')));

/** .dockerignore semantics (moby/patternmatcher): the last pattern matching a path or a parent of it wins. */
function dockerignore(file: string): (rel: string) => boolean {
  const patterns = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const p = path.posix.normalize(negate ? l.slice(1) : l).replace(/\/$/, '');
      const re = p
        .split('/')
        .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/\.\*\//g, '(.*/)?');
      return { negate, re: new RegExp(`^${re}$`) };
    });
  return (rel: string): boolean => {
    const parts = rel.split('/');
    const prefixes = parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const p of patterns) if (prefixes.some((x) => p.re.test(x))) excluded = !p.negate;
    return excluded;
  };
}

/** Targets a Makefile defines (rules and .PHONY), with $(VAR) from its := / ?= / = assignments. */
function makeTargets(makefile: string): { targets: Set<string>; vars: Map<string, string>; defaultGoal: string[] } {
  const text = fs.readFileSync(makefile, 'utf8');
  const vars = new Map<string, string>();
  for (const m of text.matchAll(/^(\w+)\s*(?::=|\?=|=)\s*(.*)$/gm)) vars.set(m[1], m[2].trim());
  const expand = (s: string): string => s.replace(/\$\((\w+)\)/g, (_m, k: string) => vars.get(k) ?? '');
  const targets = new Set<string>();
  let defaultGoal: string[] = [];
  for (const m of text.matchAll(/^([^\s#:=][^:=]*?):(?!=)(.*)$/gm)) {
    for (const t of expand(m[1]).split(/\s+/).filter(Boolean)) {
      if (t === '.PHONY') expand(m[2]).split(/\s+/).filter(Boolean).forEach((p) => targets.add(p));
      else if (!t.startsWith('.')) {
        targets.add(t);
        if (defaultGoal.length === 0 && !t.includes('%')) defaultGoal = [t, ...expand(m[2]).split(/\s+/).filter(Boolean)];
      }
    }
  }
  return { targets, vars, defaultGoal };
}

describe('deploy/docker', () => {
  const root = repoRoot();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
    scripts: Record<string, string>;
    dependencies: Record<string, string>;
    allowScripts: Record<string, boolean>;
  };
  const parsed = new Map<Image, ParsedDockerfile>(IMAGES.map((i) => [i, parseDockerfile(i)]));
  const each = (fn: (d: ParsedDockerfile, image: Image) => void): void => {
    for (const [image, d] of parsed) fn(d, image);
  };

  it('are multi-stage: a Debian 12 builder with Node.js, a slim Debian 12 runtime running the same node binary', () => {
    each((d) => {
      const build = stage(d, 'build');
      const runtime = stage(d, 'runtime');
      assert.equal(d.stages[d.stages.length - 1], runtime, 'the runtime is the last stage (the default target)');
      const node = /^node:(\d+)\.(\d+)\.(\d+)-bookworm$/.exec(build.image);
      assert.ok(node, `builder image ${build.image} is node:X.Y.Z-bookworm (Debian 12, a pinned Node.js)`);
      const engines = /(\d+)/.exec((JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node);
      assert.ok(Number(node[1]) >= Number(engines?.[1]), `Node.js ${node[1]} satisfies package.json engines`);
      assert.equal(Number(node[1]), 20, 'Node.js 20: better-sqlite3 12 and the addon are tested on 20 (docs/controlplane.md)');
      assert.equal(runtime.image, 'debian:bookworm-slim');
      const nodeCopy = runtime.instructions.find((i) => i.getKeyword() === 'COPY' && words(i).includes('/usr/local/bin/node'));
      assert.ok(nodeCopy, 'the runtime copies node from the builder');
      assert.equal(flag(nodeCopy, 'from'), 'build');
    });
    assert.equal(parsed.get('agent')?.args.get('NODE_VERSION'), parsed.get('controlplane')?.args.get('NODE_VERSION'), 'both images on one Node.js');
  });

  it('copy from the build context only paths that exist and that their .dockerignore keeps', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    each((d) => {
      const ignoreFile = `${d.file}.dockerignore`;
      assert.ok(fs.existsSync(ignoreFile), `${path.relative(root, ignoreFile)} exists (BuildKit reads it beside the Dockerfile)`);
      const ignored = dockerignore(ignoreFile);
      for (const s of d.stages) {
        for (const i of s.instructions.filter((x) => x.getKeyword() === 'COPY' || x.getKeyword() === 'ADD')) {
          assert.equal(i.getKeyword(), 'COPY', 'COPY, not ADD');
          if (flag(i, 'from') !== undefined) continue;
          for (const src of words(i).slice(0, -1)) {
            const rel = src.replace(/\/$/, '');
            assert.ok(fs.existsSync(path.join(root, rel)), `${path.basename(d.file)}: COPY ${src}: no such path in the repository`);
            assert.equal(ignored(rel), false, `${path.basename(d.file)}: COPY ${src} is excluded by its .dockerignore`);
            // every tracked file below a copied directory reaches the build
            for (const f of tracked.filter((t) => t.startsWith(`${rel}/`))) assert.equal(ignored(f), false, `${path.basename(d.file)}: ${f} (below COPY ${src}) is excluded`);
          }
        }
      }
      // and what must never reach a build context does not
      for (const p of ['node_modules/x', 'dist/cli/main.js', 'bpf/build/vigil.bpf.o', 'build/Release/vigil_native.node', 'certs/ca.key', '.git/config', 'test/agent/abi.test.ts']) {
        assert.equal(ignored(p), true, `${path.relative(root, ignoreFile)} excludes ${p}`);
      }
    });
  });

  it('run only make targets, npm scripts and files that exist', () => {
    const make = makeTargets(path.join(root, 'bpf', 'Makefile'));
    const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string } };
    each((d, image) => {
      const build = stage(d, 'build');
      const copied = build.instructions.filter((i) => i.getKeyword() === 'COPY' && !flag(i, 'from')).flatMap((i) => words(i).slice(0, -1).map((w) => w.replace(/\/$/, '')));
      const runs = build.instructions.filter((i) => i.getKeyword() === 'RUN').flatMap(commands);
      let ranCi = false;
      for (const c of runs) {
        const cmd = c.filter((w) => !/^\w+=/.test(w));
        if (cmd[0] === 'npm' && cmd[1] === 'ci') {
          ranCi = true;
          assert.ok(copied.includes('package-lock.json'), 'npm ci needs package-lock.json');
          if (image === 'controlplane') {
            // the package's install script builds BPF and the agent's addon: not in this image
            assert.ok(cmd.includes('--ignore-scripts'), 'the control-plane builder runs npm ci --ignore-scripts');
            assert.ok(!copied.includes('bpf') && !copied.includes('native') && !copied.includes('binding.gyp'), 'the control-plane builder copies no bpf/, native/ or binding.gyp');
            continue;
          }
          // npm ci runs the package's install script: make -C bpf && node-gyp rebuild
          const install = pkg.scripts.install;
          assert.ok(install, 'package.json has an install script (BPF object and native addon)');
          const m = /make -C (\S+)((?: [\w./-]+)*)/.exec(install);
          assert.ok(m, `install script runs make: ${install}`);
          assert.ok(copied.includes(m[1]), `${m[1]} is copied before npm ci`);
          for (const t of m[2].split(' ').filter(Boolean)) assert.ok(make.targets.has(t), `bpf/Makefile has target ${t}`);
          if (install.includes('node-gyp')) for (const f of ['binding.gyp', 'native']) assert.ok(copied.includes(f), `${f} is copied before npm ci`);
        } else if (cmd[0] === 'npm' && cmd[1] === 'rebuild') {
          // only a dependency whose install script we allow (package.json allowScripts)
          for (const dep of cmd.slice(2).filter((w) => !w.startsWith('-'))) {
            assert.ok(pkg.dependencies[dep], `npm rebuild ${dep}: a dependency`);
            assert.equal(pkg.allowScripts[dep], true, `npm rebuild ${dep}: its install script is allowed in package.json`);
          }
        } else if (cmd[0] === 'npm' && cmd[1] === 'run') {
          assert.ok(pkg.scripts[cmd[2]], `package.json has script ${cmd[2]}`);
        } else if (cmd[0] === 'make') {
          const dir = cmd[cmd.indexOf('-C') + 1];
          assert.ok(cmd.includes('-C') && fs.existsSync(path.join(root, dir, 'Makefile')), `make -C ${dir}`);
          for (const t of cmd.slice(cmd.indexOf('-C') + 2).filter((w) => !w.startsWith('-') && !w.includes('='))) assert.ok(make.targets.has(t), `bpf/Makefile target ${t}`);
        } else if (cmd[0] === 'npx' && cmd[1] === 'tsc') {
          const project = cmd[cmd.indexOf('-p') + 1];
          assert.ok(copied.includes(project), `${project} is copied before tsc`);
          assert.equal(tsconfig.compilerOptions.outDir, 'dist');
        }
      }
      assert.ok(ranCi, 'the builder runs npm ci (the lock file, and the install script)');
      if (image === 'controlplane') {
        assert.ok(!d.stages.some((x) => x.name === 'btf'), 'the control plane builds no BPF: no btf stage');
        return;
      }
      // vmlinux.h: the Dockerfile can hand bpf/Makefile a BTF file of its choice
      assert.match(fs.readFileSync(path.join(root, 'bpf', 'Makefile'), 'utf8'), /^BTF\s*\?=/m, 'bpf/Makefile takes BTF from the environment');
      const ci = build.instructions.find((i) => i.getKeyword() === 'RUN' && /npm ci/.test(i.getArgumentsContent() ?? ''));
      assert.ok(ci);
      assert.match(ci.getArgumentsContent() ?? '', /export BTF=\/btf\/vmlinux/);
      assert.match(flag(ci, 'mount') ?? '', /type=bind,from=btf,target=\/btf/);
      assert.equal(stage(d, 'btf').image, 'scratch', 'the btf stage is empty unless --build-context btf=DIR replaces it');
    });
  });

  it('the runtime copies from the builder only what the builder copied in or builds', () => {
    const make = makeTargets(path.join(root, 'bpf', 'Makefile'));
    const bpfOutputs = make.defaultGoal.slice(1).map((t) => `bpf/${t}`);
    const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8')) as { targets: Array<{ target_name: string }> };
    const built = new Set([...bpfOutputs, ...gyp.targets.map((t) => `build/Release/${t.target_name}.node`), 'dist', 'node_modules']);
    const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
    each((d, image) => {
      const build = stage(d, 'build');
      const copiedIn = build.instructions.filter((i) => i.getKeyword() === 'COPY' && !flag(i, 'from')).flatMap((i) => {
        const w = words(i);
        const dest = w[w.length - 1];
        // COPY a b ./  keeps the names; COPY dir/ dir/ and COPY file file name the destination
        return w.slice(0, -1).map((s) => (dest === './' ? path.basename(s) : dest.replace(/\/$/, '')));
      });
      const runtime = stage(d, 'runtime');
      const fromBuild = runtime.instructions.filter((i) => i.getKeyword() === 'COPY' && flag(i, 'from') === 'build').flatMap((i) => words(i).slice(0, -1));
      for (const src of fromBuild) {
        if (!src.startsWith(`${INSTALL}/`)) {
          assert.equal(src, '/usr/local/bin/node', 'from outside the installation, only the node binary');
          continue;
        }
        const rel = src.slice(INSTALL.length + 1).replace(/\/$/, '');
        // copied in: a tracked file or directory of the repository below something the builder copied
        const copied = copiedIn.some((c) => rel === c || rel.startsWith(`${c}/`)) && tracked.some((t) => t === rel || t.startsWith(`${rel}/`));
        const ok = copied || [...built].some((b) => rel === b || rel.startsWith(`${b}/`));
        assert.ok(ok, `${path.basename(d.file)}: COPY --from=build ${src}: the builder neither copies nor builds it`);
      }
      const rels = fromBuild.map((s) => s.replace(`${INSTALL}/`, '').replace(/\/$/, ''));
      // what the code needs at run time: repoRoot() looks for package.json; the shim loads dist/cli/main.js; proto/ at run time
      for (const need of ['package.json', 'bin', 'dist/common', 'dist/controlplane', 'dist/cli', 'proto', 'node_modules']) assert.ok(rels.includes(need), `${image} image has ${need}`);
      if (image === 'agent') {
        for (const need of ['dist/agent', ...bpfOutputs, `build/Release/${gyp.targets[0].target_name}.node`, 'deploy/rules/default.yaml']) assert.ok(rels.includes(need), `agent image has ${need}`);
      } else {
        assert.ok(!rels.some((r) => r.startsWith('bpf') || r.startsWith('build/')), 'the control plane loads no BPF and no addon of its own');
        // of the agent, exactly the files the control plane and the vigil command load (test/layout.test.ts)
        const destOf = (i: Instruction): string => words(i)[words(i).length - 1].replace(/\/$/, '');
        const agentFiles = runtime.instructions
          .filter((i) => i.getKeyword() === 'COPY' && flag(i, 'from') === 'build')
          .flatMap((i) => words(i).slice(0, -1).map((src) => ({ src: src.replace(`${INSTALL}/`, ''), dest: destOf(i) })))
          .filter((c) => c.src.startsWith('dist/agent'));
        for (const c of agentFiles) assert.ok(/\.js$/.test(c.src) && c.dest === path.dirname(c.src), `${c.src} is copied as a file to its own directory (not a whole folder of the agent)`);
        const shipped = agentFiles.map((c) => c.src.replace(/^dist\//, '').replace(/\.js$/, '')).sort();
        assert.deepEqual(shipped, controlPlaneAgentFiles(importGraph(root)), 'the control-plane image ships exactly the agent files the control plane loads');
      }
      // dev dependencies and sources stay in the builder
      assert.ok(!rels.some((r) => /^(common|agent|controlplane|cli|native|test|bench)(\/|$)/.test(r)), 'no sources in the runtime');
      const pruned = build.instructions.some((i) => /npm prune --omit=dev/.test(i.getArgumentsContent() ?? ''));
      assert.ok(pruned, 'node_modules is pruned to production dependencies before the runtime copies it');
    });
  });

  it('the agent builder installs exactly the packages scripts/setup.sh installs; the control-plane builder only what better-sqlite3 builds with', () => {
    const setup = fs.readFileSync(path.join(root, 'scripts', 'setup.sh'), 'utf8');
    const block = /declare -A PROVES=\(([\s\S]*?)\n\)/.exec(setup);
    assert.ok(block, 'scripts/setup.sh declares its packages in PROVES');
    const wanted = [...block[1].matchAll(/\[([\w.+-]+)\]=/g)].map((m) => m[1]).sort();
    assert.ok(wanted.length > 5);
    assert.deepEqual(aptPackages(stage(parsed.get('agent') as ParsedDockerfile, 'build')).sort(), wanted, 'Dockerfile.agent');
    // the control plane builds only better-sqlite3's native module (node-gyp: make, a C++ compiler, Python): each of them is one setup.sh installs
    const cp = aptPackages(stage(parsed.get('controlplane') as ParsedDockerfile, 'build')).sort();
    assert.deepEqual(cp, ['g++', 'make', 'python3'], 'Dockerfile.controlplane');
    for (const p of cp) assert.ok(wanted.includes(p), `${p} is one of setup.sh's packages`);
    // what only the test suite needs (real containers) is a list of its own, installed by `setup.sh test` and in no image
    const testBlock = /declare -A TEST_PROVES=\(([\s\S]*?)\n\)/.exec(setup);
    assert.ok(testBlock, 'scripts/setup.sh declares its test-only packages in TEST_PROVES');
    const testOnly = [...testBlock[1].matchAll(/\[([\w.+-]+)\]=/g)].map((m) => m[1]).sort();
    assert.deepEqual(testOnly, ['busybox-static', 'podman', 'runc']);
    for (const p of testOnly) {
      assert.ok(!wanted.includes(p), `${p} is a test-only package, not a build dependency`);
      for (const image of IMAGES) {
        for (const st of (parsed.get(image) as ParsedDockerfile).stages) assert.ok(!aptPackages(st).includes(p), `Dockerfile.${image} (${st.name}) does not install the test-only ${p}`);
      }
    }
  });

  it('the agent runtime has the shared libraries the native addon links, and no compiler', () => {
    const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8')) as { targets: Array<{ target_name: string; libraries: string[] }> };
    // Debian 12 package of each library the addon links (-lpthread is in libc6, in every image)
    const runtimePackage: Record<string, string> = { '-lbpf': 'libbpf1', '-lelf': 'libelf1', '-lz': 'zlib1g', '-lpthread': 'libc6' };
    const base = new Set(['libc6', 'libstdc++6', 'libgcc-s1']); // in debian:bookworm-slim (apt needs them)
    const agentPkgs = aptPackages(stage(parsed.get('agent') as ParsedDockerfile, 'runtime'));
    for (const lib of gyp.targets[0].libraries) {
      const p = runtimePackage[lib];
      assert.ok(p, `binding.gyp links ${lib}: which Debian package has it? (add it here and to Dockerfile.agent)`);
      if (!base.has(p)) assert.ok(agentPkgs.includes(p), `Dockerfile.agent's runtime installs ${p} (${lib})`);
    }
    // the addon as built on this machine, when it is: every library it loads comes from an installed package
    const addon = path.join(root, 'build', 'Release', `${gyp.targets[0].target_name}.node`);
    if (fs.existsSync(addon)) {
      const ldd = execFileSync('ldd', [addon], { encoding: 'utf8' });
      for (const m of ldd.matchAll(/=>\s+(\/\S+)/g)) {
        const real = fs.realpathSync(m[1]);
        let owner = '';
        for (const candidate of [real, real.replace(/^\/usr\/lib\//, '/lib/'), real.replace(/^\/lib\//, '/usr/lib/')]) {
          try {
            owner = execFileSync('dpkg', ['-S', candidate], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(':')[0];
            break;
          } catch {
            // not this spelling of the path
          }
        }
        if (!owner) continue; // not from a Debian package (nothing to install)
        assert.ok(base.has(owner) || agentPkgs.includes(owner), `the addon loads ${m[1]} from ${owner}: Dockerfile.agent's runtime must install it`);
      }
    }
    each((d) => {
      for (const p of aptPackages(stage(d, 'runtime'))) {
        assert.ok(!/-dev$|^(clang|llvm|gcc|g\+\+|make|bpftool|python3|pkg-config)$/.test(p), `${path.basename(d.file)} runtime installs ${p}: build tools stay in the builder`);
      }
    });
  });

  it('start /opt/vigil/bin/vigil with a subcommand `vigil help` lists, as the user the manifests expect', () => {
    const help = execFileSync(process.execPath, [path.join(root, 'bin', 'vigil'), 'help'], { encoding: 'utf8' });
    const subcommands = new Set([...help.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]));
    assert.ok(subcommands.has('agent') && subcommands.has('controlplane'), `vigil help lists: ${[...subcommands].join(', ')}`);
    const manifests = {
      agent: parseYaml(fs.readFileSync(path.join(root, 'deploy', 'kubernetes', 'base', 'agent-daemonset.yaml'), 'utf8')) as {
        spec: { template: { spec: { containers: Array<{ command: string[]; args: string[]; securityContext: { runAsUser: number } }> } } };
      },
      controlplane: parseYaml(fs.readFileSync(path.join(root, 'deploy', 'kubernetes', 'base', 'controlplane-deployment.yaml'), 'utf8')) as {
        spec: { template: { spec: { containers: Array<{ command: string[]; args: string[]; securityContext: { runAsUser: number } }> } } };
      },
    };
    each((d, image) => {
      const runtime = stage(d, 'runtime');
      const entrypoint = runtime.instructions.filter((i) => i.getKeyword() === 'ENTRYPOINT');
      const cmd = runtime.instructions.filter((i) => i.getKeyword() === 'CMD');
      assert.equal(entrypoint.length, 1);
      assert.equal(cmd.length, 1);
      assert.deepEqual(jsonForm(entrypoint[0]), [`${INSTALL}/bin/vigil`], 'exec form, the vigil shim');
      const args = jsonForm(cmd[0]);
      assert.equal(args[0], image);
      assert.ok(subcommands.has(args[0]), `vigil help lists ${args[0]}`);
      const k8s = manifests[image].spec.template.spec.containers[0];
      // the agent enters the node's cgroup namespace first (nsenter, from util-linux in the image)
      const wrapper = image === 'agent' ? ['nsenter', '--cgroup=/proc/1/ns/cgroup', '--'] : [];
      assert.deepEqual(k8s.command, [...wrapper, ...jsonForm(entrypoint[0])], `the ${image} manifest runs the image's entrypoint`);
      if (image === 'agent') assert.ok(aptPackages(runtime).includes('util-linux'), 'the agent image installs util-linux (nsenter)');
      assert.equal(k8s.args[0], image);
      const user = runtime.instructions.filter((i) => i.getKeyword() === 'USER').pop();
      assert.ok(user, 'USER is explicit');
      assert.equal(Number(words(user)[0].split(':')[0]), k8s.securityContext.runAsUser, `USER matches the ${image} manifest's runAsUser`);
      const label = runtime.instructions.find((i) => i.getKeyword() === 'ARG' && /^VIGIL_VERSION=/.test(i.getArgumentsContent() ?? ''));
      assert.equal(label?.getArgumentsContent(), `VIGIL_VERSION=${pkg.version}`, 'the image version label is the package version');
    });
  });

  it('the control-plane runtime, assembled from its COPY lines, serves and validates policy with no agent in it', async function () {
    this.timeout(30000);
    // no Docker engine here: lay the runtime stage's files out as its COPY --from=build lines say (the build tree is
    // this repository after `npm run build`; node_modules is linked, not copied) and run the image's command from it
    const runtime = stage(parsed.get('controlplane') as ParsedDockerfile, 'runtime');
    const image = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cp-image-'));
    const children: ChildProcess[] = [];
    try {
      for (const i of runtime.instructions.filter((x) => x.getKeyword() === 'COPY' && flag(x, 'from') === 'build')) {
        const w = words(i);
        const dest = w[w.length - 1];
        for (const src of w.slice(0, -1)) {
          if (!src.startsWith(`${INSTALL}/`)) continue; // the node binary
          const rel = src.slice(INSTALL.length + 1).replace(/\/$/, '');
          const to = (dest === './' ? path.join(image, path.basename(rel)) : src.endsWith('/') ? path.join(image, dest) : path.join(image, dest, path.basename(rel))).replace(/\/$/, '');
          fs.mkdirSync(path.dirname(to), { recursive: true });
          if (rel === 'node_modules') fs.symlinkSync(path.join(root, rel), to);
          else fs.cpSync(path.join(root, rel), to, { recursive: true });
        }
      }
      assert.ok(!fs.existsSync(path.join(image, 'dist', 'agent', 'kernel', 'native.js')), 'no addon loader in the image');
      assert.ok(!fs.existsSync(path.join(image, 'dist', 'agent', 'agent.js')), 'no agent in the image');
      const vigil = path.join(image, 'bin', 'vigil');
      const key = crypto.generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      fs.writeFileSync(path.join(image, 'policy.key'), key, { mode: 0o600 });
      const cp = spawn(process.execPath, [vigil, 'controlplane', '--listen', '127.0.0.1:0', '--data', path.join(image, 'data'), '--insecure', '--policy-key', path.join(image, 'policy.key')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      children.push(cp);
      let err = '';
      cp.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      const deadline = Date.now() + 15000;
      while (!/listening on 127\.0\.0\.1:(\d+)/.test(err)) {
        assert.ok(cp.exitCode === null && Date.now() < deadline, `vigil controlplane did not start from the image layout: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(err)?.[1] ?? '';
      const run = (args: string[]): { code: number; out: string; err: string } => {
        try {
          return { code: 0, out: execFileSync(process.execPath, [vigil, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), err: '' };
        } catch (e) {
          const x = e as { status: number; stdout: string; stderr: string };
          return { code: x.status, out: x.stdout, err: x.stderr };
        }
      };
      const good = path.join(image, 'good.yaml');
      fs.writeFileSync(good, 'rules:\n  - name: no-shells\n    on: exec\n    match: { binary: { in: [/bin/sh] } }\n    action: alert\n');
      const bad = path.join(image, 'bad.yaml');
      fs.writeFileSync(bad, 'rules:\n  - name: bad\n    on: exec\n    match: { binary: { in: [sh] } }\n    action: alert\n');
      const link = ['--controlplane', `127.0.0.1:${port}`, '--insecure'];
      const pushed = run(['policy', 'push', good, ...link]);
      assert.equal(pushed.code, 0, pushed.err);
      assert.match(pushed.out, /policy v1 signed and sent to 0 connected agents/);
      const refused = run(['policy', 'push', bad, ...link]);
      assert.equal(refused.code, 4, refused.err);
      assert.match(refused.err, /bad\.yaml:4:.*rule "bad": match\.binary\.in: "sh" is not an absolute path/);
      const agent = run(['agent', '--rules', good]);
      assert.equal(agent.code, 1);
      assert.match(agent.err, /vigil agent: not part of this installation/);
    } finally {
      for (const c of children) c.kill('SIGKILL');
      fs.rmSync(image, { recursive: true, force: true });
    }
  });
});
