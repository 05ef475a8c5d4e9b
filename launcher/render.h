/* render.h: nginx's config from its templates: @NAME@ placeholders replaced by values, literally. */
#ifndef PP_RENDER_H
#define PP_RENDER_H

#include <stddef.h>

struct subst {
	const char	*name;		/* without the @s */
	const char	*value;
};

/*
 * Renders tpl: each @NAME@ (NAME of capitals, digits and _) becomes the value
 * of the first vars[] entry of that name, copied as is: a value is never
 * read again, so &, $, \ and text like @X@ in it stay what they are.  A
 * placeholder with no value is an error: nothing is left unrendered.  Any
 * other @ is copied.  Returns 0 and *out (malloc'd, NUL-terminated), or -1
 * with the reason in why.
 */
int	render(const char *tpl, const struct subst *vars, size_t nvars, char **out,
	    char *why, size_t whylen);

#endif
