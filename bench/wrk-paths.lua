-- wrk script for bench/transfers.sh: each request GETs a random line of the file named by
-- the environment variable WRK_PATHS (one absolute path per line).
local paths = {}

function init(args)
	for line in io.lines(os.getenv("WRK_PATHS")) do
		paths[#paths + 1] = line
	end
	math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
	return wrk.format("GET", paths[math.random(#paths)])
end
