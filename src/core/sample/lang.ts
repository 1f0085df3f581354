/** A chunk's `lang`, from the file name alone: cheap, deterministic, good enough to filter by. */
import path from 'node:path';

const BY_EXTENSION: Readonly<Record<string, string>> = {
  '.ts': 'typescript',
  '.tsx': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.js': 'javascript',
  '.jsx': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.py': 'python',
  '.rs': 'rust',
  '.go': 'go',
  '.c': 'c',
  '.h': 'c',
  '.cc': 'cpp',
  '.cpp': 'cpp',
  '.cxx': 'cpp',
  '.hh': 'cpp',
  '.hpp': 'cpp',
  '.hxx': 'cpp',
  '.java': 'java',
  '.kt': 'kotlin',
  '.swift': 'swift',
  '.rb': 'ruby',
  '.php': 'php',
  '.cs': 'csharp',
  '.scala': 'scala',
  '.sh': 'shell',
  '.bash': 'shell',
  '.zsh': 'shell',
  '.sql': 'sql',
  '.html': 'html',
  '.css': 'css',
  '.scss': 'css',
  '.md': 'markdown',
  '.rst': 'rst',
  '.txt': 'text',
  '.json': 'json',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.toml': 'toml',
  '.xml': 'xml',
  '.gyp': 'python',
  '.cmake': 'cmake',
};

const BY_NAME: Readonly<Record<string, string>> = {
  makefile: 'make',
  'cmakelists.txt': 'cmake',
  dockerfile: 'dockerfile',
};

/** `lang` for a relative path; 'text' when nothing matches. */
export function langFromPath(rel: string): string {
  const name = path.posix.basename(rel).toLowerCase();
  return BY_NAME[name] ?? BY_EXTENSION[path.posix.extname(name)] ?? 'text';
}
