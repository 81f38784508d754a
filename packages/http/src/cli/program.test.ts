import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from './program.js';

/** Every command a user is offered, as typed after `pos-auth` (`clients add`), help aside. */
const offered = (command: Command, prefix: string[] = []): string[] => {
  const visible = command.createHelp().visibleCommands(command).filter((sub) => sub.name() !== 'help');
  if (visible.length === 0) return [prefix.join(' ')];
  return visible.flatMap((sub) => offered(sub, [...prefix, sub.name()]));
};

describe('the pos-auth program', () => {
  it('gives every command and group a description', () => {
    const walk = (command: Command): Command[] => [command, ...command.commands.flatMap(walk)];
    for (const command of walk(createProgram())) expect(command.description(), command.name()).not.toBe('');
  });

  it("is what the README's command line section lists, command for command", async () => {
    const readme = await readFile(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.split(/^## /mu).find((part) => part.startsWith('Command line'))!;
    const block = section.match(/```\n([\s\S]*?)```/u)![1]!;
    const listed = block
      .split('\n')
      .filter((line) => line.startsWith('pos-auth '))
      .map((line) => {
        // The command's words, up to its first argument or option (or the description).
        const words = line.split(/\s{2,}/u)[0]!.split(' ').slice(1);
        const end = words.findIndex((word) => !/^[a-z][a-z-]*$/u.test(word));
        return (end === -1 ? words : words.slice(0, end)).join(' ');
      });
    expect(listed).toEqual(offered(createProgram()));
  });
});
