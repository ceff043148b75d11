package plan

import (
	"slices"
	"strings"
)

// criticalPath returns the longest chain of create steps through their dependencies, in the
// order they would be created. A deployment cannot finish faster than this chain, however
// parallel it runs. Ties go to the chain whose URNs sort first, so the result is stable. It
// runs in time linear in the steps and their dependencies.
func criticalPath(steps []Step) []string {
	deps := make(map[string][]string, len(steps))
	for _, s := range steps {
		if s.Op == opCreate {
			deps[s.Resource.URN] = s.Resource.Dependencies
		}
	}
	// depth[u] is the length of the longest chain ending at u; next[u] is the dependency it
	// continues from.
	depth := make(map[string]int, len(deps))
	next := make(map[string]string, len(deps))
	visiting := map[string]bool{}
	var walk func(u string) int
	walk = func(u string) int {
		if d, ok := depth[u]; ok {
			return d
		}
		if visiting[u] {
			return 0 // a cycle cannot be deployed; the engine reports it, not the plan
		}
		visiting[u] = true
		best, bestDep := 0, ""
		for _, d := range deps[u] {
			if _, ok := deps[d]; !ok {
				continue // exists already, or is not a resource of this plan
			}
			n := walk(d)
			if n > best || (n == best && bestDep != "" && strings.Compare(d, bestDep) < 0) {
				best, bestDep = n, d
			}
		}
		delete(visiting, u)
		depth[u] = best + 1
		if bestDep != "" {
			next[u] = bestDep
		}
		return best + 1
	}
	end, longest := "", 0
	for _, s := range steps {
		u := s.Resource.URN
		if _, ok := deps[u]; !ok {
			continue
		}
		if n := walk(u); n > longest || (n == longest && u < end) {
			end, longest = u, n
		}
	}
	if end == "" {
		return nil
	}
	path := make([]string, 0, longest)
	for u := end; u != ""; u = next[u] {
		path = append(path, u)
	}
	slices.Reverse(path)
	return path
}
