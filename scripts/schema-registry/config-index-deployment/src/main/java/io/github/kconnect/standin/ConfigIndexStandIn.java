package io.github.kconnect.standin;

import apicurio.common.app.components.config.index.DynamicPropertiesInfoRecorder;
import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import io.quarkus.arc.deployment.SyntheticBeanBuildItem;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.ExecutionTime;
import io.quarkus.deployment.annotations.Record;
import io.quarkus.deployment.builditem.FeatureBuildItem;
import java.util.ArrayList;

/**
 * The build steps of the stand-in. The real module indexes the registry's dynamic configuration
 * properties; the registry only needs the index bean to exist, so this one provides it empty.
 */
public class ConfigIndexStandIn {
    @BuildStep
    FeatureBuildItem feature() {
        return new FeatureBuildItem("apicurio-config-index-stand-in");
    }

    @BuildStep
    @Record(ExecutionTime.STATIC_INIT)
    SyntheticBeanBuildItem dynamicProperties(DynamicPropertiesInfoRecorder recorder) {
        return SyntheticBeanBuildItem.configure(DynamicConfigPropertyList.class)
            .runtimeValue(recorder.initializePropertiesInfo(new ArrayList<>()))
            .unremovable()
            .done();
    }
}
