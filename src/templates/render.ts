// A tiny template renderer: {{name}} values, {{#flag}}…{{/flag}} and {{^flag}}…{{/flag}} sections. Unknown names are errors.
import { MonoError } from '../errors.js';

export type TemplateValues = Readonly<Record<string, string | number | boolean>>;

const SECTION = /\{\{([#^])([a-z_][a-z0-9_]*)\}\}(?:\n(?=[\s\S]*?\{\{\/\2\}\}\n))?([\s\S]*?)\{\{\/\2\}\}(?:(?<=\n\{\{\/\2\}\})\n)?/g;
const VALUE = /\{\{([a-z_][a-z0-9_]*)\}\}/g;

export function render(template: string, values: TemplateValues, name: string): string {
  const lookup = (key: string): string | number | boolean => {
    const value = values[key];
    if (value === undefined) {
      throw new MonoError('USAGE', `template ${name} uses {{${key}}}, which mono does not provide`, { hint: `use one of: ${Object.keys(values).join(', ')}` });
    }
    return value;
  };
  const sections = (text: string): string =>
    text.replace(SECTION, (_all, kind: string, key: string, body: string) => {
      const on = Boolean(lookup(key));
      return (kind === '#' ? on : !on) ? sections(body) : '';
    });
  return sections(template).replace(VALUE, (_all, key: string) => String(lookup(key)));
}
