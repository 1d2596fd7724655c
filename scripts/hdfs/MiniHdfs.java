import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * Runs a one-datanode HDFS for kconnect's tests until the process is terminated. The namenode
 * listens on 127.0.0.1 at a fixed port so tests can find it; everything else (datanode, HTTP)
 * takes random loopback ports. The file system is formatted on every start: tests own no data
 * across runs. Permissions are off so tests may write anywhere under any user name.
 *
 * Usage: java -cp 'libs/*:classes' MiniHdfs NAMENODE_PORT BASE_DIR READY_FILE
 */
public final class MiniHdfs {
    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: MiniHdfs NAMENODE_PORT BASE_DIR READY_FILE");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        File base = new File(args[1]);
        Path ready = Path.of(args[2]);
        Files.deleteIfExists(ready);

        Configuration conf = new Configuration();
        conf.setBoolean("dfs.permissions.enabled", false);
        conf.setInt("dfs.replication", 1);
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        conf.set("dfs.datanode.address", "127.0.0.1:0");
        conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");

        MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, base)
                .nameNodePort(port)
                .numDataNodes(1)
                .format(true)
                .build();
        cluster.waitActive();

        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            cluster.shutdown();
            done.countDown();
        }));
        String url = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "\n";
        Files.writeString(ready, url, StandardCharsets.UTF_8);
        System.out.print("MiniHdfs ready at " + url);
        System.out.flush();
        done.await();
    }
}
